# The shared layers of every beedesk image (built by ops/images/build.sh from its staging context).
FROM localhost/beedesk-rootfs:bookworm
COPY node/bin/node /usr/local/bin/node
COPY --chown=0:0 app /app
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0
USER 10001:10001
