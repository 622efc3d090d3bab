import { startAnswerService } from '@beedesk/answer';
import { startHandoffService } from '@beedesk/handoff';
import { createAuthenticator, DEFAULT_LIMIT_SETTINGS, DEV_JWT_SECRET, startGateway, staticFiles, type HttpRoute } from '@beedesk/gateway';
import { inferenceSettings, startInferenceService, type StartedInferenceService } from '@beedesk/inference';
import {
  createInMemoryRedis,
  createInProcessEventBus,
  DEV_INTERNAL_SECRET,
  InProcessQueue,
  loadConfig,
  type EventBus,
  type Logger,
  type ServiceDeps,
  type StartedService,
} from '@beedesk/runtime';
import { DEFAULT_PORTS, readSupergraph, type SubgraphName } from '@beedesk/schema';
import { startSessionService } from '@beedesk/session';
import { startTenantService } from '@beedesk/tenant';
import { demoTenants } from '../demo/data';
import { seedDemoTenants } from '../demo/seed';
import { consoleRoutes } from '../web/console';
import { seedDemoWidgets } from '../demo/widget-seed';
import { demoPages } from '../web/demo-pages';
import { widgetBundleDir } from '../web/widget-bundle';

/** The demo tenants' pages (`/demo/<slug>`) and their widgets' look. */
const DEMO_WIDGETS = [
  { id: 'demo-bank', slug: 'bank', lang: 'en', themeColor: '#0b6e4f' },
  { id: 'demo-cn', slug: 'cn', lang: 'zh-CN', themeColor: '#c2410c' },
] as const;

export interface EmbeddedOptions {
  logger: Logger;
  host?: string;
  /** Port per service; 0 picks a free one (tests). Defaults to DESIGN's 4000–4004. */
  ports?: Partial<Record<SubgraphName | 'gateway', number>>;
  jwtSecret?: string;
  /** Signs the tenant context between the in-process services; default DEV_INTERNAL_SECRET. */
  internalSecret?: string;
  seed?: boolean;
  /** Serve the staff console under /console with its development sign-in (default true). */
  console?: boolean;
  /** Extra gateway options for tests (e.g. persisted-only). */
  persistedOnly?: boolean;
}

export interface Embedded {
  gatewayUrl: string;
  /** The staff console, when served. */
  consoleUrl: string | null;
  /** The demo pages with the widget, e.g. http://127.0.0.1:4000/demo/bank (none without seeding). */
  demoPages: string[];
  ports: Record<SubgraphName | 'gateway', number>;
  seeded: { tenant: string; articles: number }[];
  close(): Promise<void>;
}

/**
 * The embedded default: gateway and all five subgraphs in one process, with in-process stand-ins
 * for Redis (ioredis-mock) and Kafka (an in-process queue). The same service code as real mode.
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const host = options.host ?? '127.0.0.1';
  const portOf = (name: SubgraphName | 'gateway') => options.ports?.[name] ?? DEFAULT_PORTS[name];
  const jwtSecret = options.jwtSecret ?? process.env.JWT_SECRET ?? DEV_JWT_SECRET;
  const internalSecret = options.internalSecret ?? DEV_INTERNAL_SECRET;
  const redis = createInMemoryRedis();
  const queue = new InProcessQueue(options.logger.child({ component: 'queue' }));
  // One process: live events need no Redis pub/sub, a listener map reaches every subscriber.
  const events = createInProcessEventBus('bd', options.logger.child({ component: 'events' }));
  const deps = (name: SubgraphName): ServiceDeps & { events: EventBus } => ({
    redis,
    keyPrefix: 'bd',
    internalSecret,
    logger: options.logger.child({ service: name }),
    host,
    port: portOf(name),
    defaultMetrics: name === 'tenant',
    events,
  });
  const started: StartedService[] = [];
  const ports = {} as Record<SubgraphName | 'gateway', number>;
  const close = async () => {
    for (const service of started.reverse()) await service.close();
    await events.close();
    redis.disconnect();
  };
  // Ready means "answers correctly now": not before the demo tenants are seeded and their models trained.
  let demo: 'seeding' | 'training' | 'ok' = options.seed === false ? 'ok' : 'seeding';
  try {
    const handles: { inference?: StartedInferenceService } = {};
    const services: [SubgraphName, () => Promise<StartedService>][] = [
      ['tenant', () => startTenantService(deps('tenant'))],
      ['session', () => startSessionService(deps('session'))],
      ['answer', () => startAnswerService({ ...deps('answer'), queue })],
      [
        'inference',
        async () =>
          (handles.inference = await startInferenceService({
            ...deps('inference'),
            consumer: queue,
            settings: loadConfig(inferenceSettings),
          })),
      ],
      ['handoff', () => startHandoffService(deps('handoff'))],
    ];
    for (const [name, start] of services) {
      const service = await start();
      started.push(service);
      ports[name] = service.port;
    }
    const tenants = options.seed === false ? [] : demoTenants();
    // The widget's files, and the demo pages once the demo tenants have their widget keys.
    let demoRoute: HttpRoute = () => false;
    const gateway = await startGateway({
      httpRoutes: [
        (req, res, url) => demoRoute(req, res, url),
        staticFiles('/widget', widgetBundleDir(), { cacheControl: 'no-cache' }),
        ...(options.console === false
          ? []
          : consoleRoutes({ config: { signIn: 'development', tenants: tenants.map((t) => t.id) }, jwtSecret })),
      ],
      supergraphSdl: readSupergraph(),
      mode: {
        kind: 'beedesk',
        authenticate: createAuthenticator({ secret: jwtSecret, clockToleranceSeconds: 30, apiKeys: { redis, keyPrefix: 'bd' } }),
      },
      internalSecret,
      redis,
      keyPrefix: 'bd',
      logger: options.logger.child({ service: 'gateway' }),
      host,
      port: portOf('gateway'),
      maxBodyBytes: 16 * 1024 * 1024,
      subgraphTimeoutMs: 30_000,
      urlOverride: (name) => (name in ports ? `http://${host}:${ports[name as SubgraphName]}/graphql` : undefined),
      defaultMetrics: false,
      // The embedded default is development: introspection on, any origin may call.
      limits: { ...DEFAULT_LIMIT_SETTINGS, introspection: true },
      cors: { anyOrigin: true },
      readiness: async () => ({ demo }),
      ...(options.persistedOnly ? { persistedOperations: { requireTrusted: true } } : {}),
    });
    started.push(gateway);
    ports.gateway = gateway.port;
    const gatewayUrl = `http://${host}:${gateway.port}/graphql`;
    const seeded = options.seed === false ? [] : await seedDemoTenants(gatewayUrl, { tenants, jwtSecret });
    const origin = `http://${host}:${gateway.port}`;
    const origins = host === '127.0.0.1' ? [origin, `http://localhost:${gateway.port}`] : [origin];
    const widgets = seeded.length ? await seedDemoWidgets(gatewayUrl, [...DEMO_WIDGETS], origins, jwtSecret) : [];
    const pages = DEMO_WIDGETS.flatMap((demoTenant) => {
      const widget = widgets.find((w) => w.tenant === demoTenant.id);
      return widget ? [{ slug: demoTenant.slug, lang: demoTenant.lang, widgetKey: widget.key, scriptSrc: '/widget/widget.js' }] : [];
    });
    demoRoute = demoPages(pages, origin);
    demo = demo === 'ok' ? 'ok' : 'training';
    // Train the demo tenants' models now, so the first question is answered in milliseconds.
    for (const { tenant } of seeded) await handles.inference?.warm(tenant);
    demo = 'ok';
    const consoleUrl = options.console === false ? null : `http://${host}:${gateway.port}/console/`;
    return { gatewayUrl, consoleUrl, ports, seeded, demoPages: pages.map((page) => `${origin}/demo/${page.slug}`), close };
  } catch (error) {
    await close();
    throw error;
  }
}
