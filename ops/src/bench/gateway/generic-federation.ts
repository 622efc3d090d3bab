/**
 * A small federation that exercises what a generic gateway must get right, used to compare the
 * beedesk gateway in generic mode (`--supergraph <file> --auth none`) with plain @apollo/gateway
 * response for response (generic-mode.test.ts): subgraph errors (root, entity, non-null, HTTP 500),
 * @inaccessible (type, field, enum value, argument), interfaces (@key on an interface and
 * @interfaceObject), unions, @requires, @provides, @override and @shareable.
 *
 *   catalog   Product (name, price, weight, code @inaccessible, inStock overridden by shipping),
 *             Media interface @key(id) with Book and Movie, union SearchResult, failing fields
 *   shipping  Product.inStock @override(from: "catalog"), shippingCost @requires(price weight),
 *             delivery (fails for one product)
 *   reviews   Product.reviews, Review.author @provides(fields: "name"), Media @interfaceObject
 *             with rating, a root field on which the subgraph answers HTTP 500
 *   users     User @key(id): name (@shareable), email
 */
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { GraphQLError, parse, type GraphQLSchema } from 'graphql';

export const GENERIC_SUBGRAPHS = ['catalog', 'shipping', 'reviews', 'users'] as const;
export type GenericSubgraph = (typeof GENERIC_SUBGRAPHS)[number];

const link = (imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

export const GENERIC_SDL: Record<GenericSubgraph, string> = {
  catalog: `${link(['@key', '@shareable', '@inaccessible'])}

type Query {
  products: [Product!]!
  product(id: ID!): Product
  media: [Media!]!
  search(text: String!, mode: SearchMode = ALL, debug: Boolean @inaccessible): [SearchResult!]!
  failing: String
  failingNonNull: String!
  partial: [Product]
  secret: Secret @inaccessible
}

enum SearchMode { ALL FAST LEGACY @inaccessible }

type Secret @inaccessible { value: String }

type Product @key(fields: "id") {
  id: ID!
  name: String!
  price: Int!
  weight: Int!
  code: String @inaccessible
  inStock: Boolean
  kind: ProductKind
  strict: String!
}

enum ProductKind { TOOL GARDEN }

interface Media @key(fields: "id") {
  id: ID!
  title: String!
}

type Book implements Media @key(fields: "id") {
  id: ID!
  title: String!
  pages: Int
}

type Movie implements Media @key(fields: "id") {
  id: ID!
  title: String!
  minutes: Int
}

union SearchResult = Book | Movie | Product
`,
  shipping: `${link(['@key', '@external', '@requires', '@override'])}

type Product @key(fields: "id") {
  id: ID!
  price: Int! @external
  weight: Int! @external
  inStock: Boolean @override(from: "catalog")
  shippingCost: Int @requires(fields: "price weight")
  delivery: String
}
`,
  reviews: `${link(['@key', '@external', '@provides', '@interfaceObject'])}

type Query {
  latestReviews: [Review!]!
  brokenSubgraph: String
}

type Product @key(fields: "id") {
  id: ID!
  reviews: [Review!]!
}

type Review {
  id: ID!
  body: String!
  stars: Int
  author: User @provides(fields: "name")
  product: Product
}

type User @key(fields: "id") {
  id: ID!
  name: String @external
}

type Media @key(fields: "id") @interfaceObject {
  id: ID!
  rating: Int
  reviews: [Review!]!
}
`,
  users: `${link(['@key', '@shareable'])}

type User @key(fields: "id") {
  id: ID!
  name: String @shareable
  email: String
}
`,
};

interface ProductRow {
  id: string;
  name: string;
  price: number;
  weight: number;
  code: string;
  kind: 'TOOL' | 'GARDEN';
}
const PRODUCTS: ProductRow[] = [
  { id: 'p1', name: 'Hammer', price: 12, weight: 600, code: 'H-1', kind: 'TOOL' },
  { id: 'p2', name: 'Rake', price: 25, weight: 1400, code: 'R-2', kind: 'GARDEN' },
  { id: 'p3', name: 'Pliers', price: 9, weight: 300, code: 'P-3', kind: 'TOOL' },
];
const MEDIA = [
  { __typename: 'Book', id: 'm1', title: 'Gardening for Everyone', pages: 320 },
  { __typename: 'Movie', id: 'm2', title: 'The Toolbox', minutes: 95 },
  { __typename: 'Book', id: 'm3', title: 'Hammers Through History', pages: 210 },
];
const USERS = [
  { id: 'u1', name: 'Ada', email: 'ada@example.com' },
  { id: 'u2', name: 'Lin', email: 'lin@example.com' },
];
const REVIEWS = [
  { id: 'r1', body: 'Solid.', stars: 5, authorId: 'u1', productId: 'p1', mediaId: 'm1' },
  { id: 'r2', body: 'Heavy.', stars: 3, authorId: 'u2', productId: 'p1', mediaId: 'm2' },
  { id: 'r3', body: 'Bent after a week.', stars: 1, authorId: 'u1', productId: 'p2', mediaId: 'm2' },
  // body null: the subgraph reports a non-null violation inside an entity fetch
  { id: 'r4', body: null, stars: 2, authorId: 'u2', productId: 'p3', mediaId: 'm3' },
];

const coded = (message: string, code: string) => new GraphQLError(message, { extensions: { code } });

function resolversFor(name: GenericSubgraph): GraphQLResolverMap<unknown> {
  const product = (id: string) => PRODUCTS.find((p) => p.id === id) ?? null;
  switch (name) {
    case 'catalog':
      return {
        Query: {
          products: () => PRODUCTS,
          product: (_: unknown, { id }: { id: string }) => product(id),
          media: () => MEDIA,
          search: (_: unknown, { text, mode }: { text: string; mode: string }) => {
            const t = text.toLowerCase();
            const hits = [
              ...MEDIA.filter((m) => m.title.toLowerCase().includes(t)),
              ...PRODUCTS.filter((p) => p.name.toLowerCase().includes(t)).map((p) => ({ __typename: 'Product', ...p })),
            ];
            return mode === 'FAST' ? hits.slice(0, 1) : hits;
          },
          failing: () => {
            throw coded('catalog is having a bad day', 'CATALOG_DOWN');
          },
          failingNonNull: () => null,
          partial: () => [PRODUCTS[0], null, PRODUCTS[2]],
          secret: () => ({ value: 'hidden' }),
        },
        Product: {
          __resolveReference: (ref: { id: string }) => product(ref.id),
          // Overridden by shipping: the gateway must never ask catalog for it.
          inStock: () => false,
          strict: (p: ProductRow) => (p.id === 'p2' ? null : `strict-${p.id}`),
        },
        Media: { __resolveReference: (ref: { id: string }) => MEDIA.find((m) => m.id === ref.id) ?? null },
        Book: { __resolveReference: (ref: { id: string }) => MEDIA.find((m) => m.id === ref.id) ?? null },
        Movie: { __resolveReference: (ref: { id: string }) => MEDIA.find((m) => m.id === ref.id) ?? null },
      };
    case 'shipping':
      return {
        Product: {
          __resolveReference: (ref: { id: string; price?: number; weight?: number }) => ({ ...ref }),
          inStock: (p: { id: string }) => p.id !== 'p2',
          shippingCost: (p: { price?: number; weight?: number }) =>
            p.price == null || p.weight == null ? null : Math.round(p.price / 10 + p.weight / 100),
          delivery: (p: { id: string }) => {
            if (p.id === 'p3') throw coded(`no courier for ${p.id}`, 'NO_COURIER');
            return `2 days (${p.id})`;
          },
        },
      };
    case 'reviews':
      return {
        Query: {
          latestReviews: () => REVIEWS.slice(0, 3),
          brokenSubgraph: () => 'never',
        },
        Product: {
          __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
          reviews: (p: { id: string }) => REVIEWS.filter((r) => r.productId === p.id),
        },
        Review: {
          author: (r: { authorId: string }) => {
            const u = USERS.find((x) => x.id === r.authorId);
            return u ? { id: u.id, name: `${u.name} (via reviews)` } : null;
          },
          product: (r: { productId: string }) => ({ id: r.productId }),
        },
        Media: {
          __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
          rating: (m: { id: string }) => {
            const stars = REVIEWS.filter((r) => r.mediaId === m.id).map((r) => r.stars);
            return stars.length ? Math.round(stars.reduce((a, b) => a + b, 0) / stars.length) : null;
          },
          reviews: (m: { id: string }) => REVIEWS.filter((r) => r.mediaId === m.id && r.body !== null),
        },
      };
    case 'users':
      return {
        User: { __resolveReference: (ref: { id: string }) => USERS.find((u) => u.id === ref.id) ?? null },
      };
  }
}

export function genericSubgraphSchema(name: GenericSubgraph): GraphQLSchema {
  return buildSubgraphSchema([{ typeDefs: parse(GENERIC_SDL[name]), resolvers: resolversFor(name) }]);
}

export function composeGenericSupergraph(urlOf: (name: GenericSubgraph) => string): string {
  const result = composeServices(GENERIC_SUBGRAPHS.map((name) => ({ name, typeDefs: parse(GENERIC_SDL[name]), url: urlOf(name) })));
  if (result.errors) throw new Error(`Composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}

/** The operations both gateways answer; each with what it exercises. */
export const GENERIC_OPERATIONS: { name: string; query: string; variables?: Record<string, unknown> }[] = [
  {
    name: '@requires, @override, entity fetches across three subgraphs, @provides',
    query: `{ products { id name price inStock shippingCost kind reviews { id body stars author { id name email } } } }`,
  },
  {
    name: 'an entity-fetch error (delivery of p3) keeps the rest, with the path',
    query: `{ products { id delivery } }`,
  },
  {
    name: 'non-null violation in a subgraph entity fetch (a review without body)',
    query: `{ product(id: "p3") { id reviews { id body } } }`,
  },
  {
    name: 'non-null violation detected by the gateway (strict is null for p2)',
    query: `{ products { id strict } }`,
  },
  { name: 'root field error with a code', query: `{ failing products { id } }` },
  { name: 'non-null root field null: data is null', query: `{ failingNonNull }` },
  { name: 'null inside a nullable list', query: `{ partial { id name } }` },
  { name: 'HTTP 500 from a subgraph', query: `{ brokenSubgraph products { id } }` },
  {
    name: 'interface with @key, fragments per type, @interfaceObject fields',
    query: `{ media { __typename id title rating ... on Book { pages } ... on Movie { minutes } reviews { id author { name } } } }`,
  },
  {
    name: 'union with inline fragments and __typename, aliases, variables, enum argument',
    query: `query Search($t: String!, $m: SearchMode) { hits: search(text: $t, mode: $m) { __typename ... on Media { title } ... on Product { id label: name inStock } ... on Book { pages } } }`,
    variables: { t: 'h', m: 'ALL' },
  },
  {
    name: 'named fragments, @skip/@include, entity @provides without fetching users',
    query: `query Q($no: Boolean!) { latestReviews { ...R product { id name @include(if: $no) price @skip(if: $no) } } } fragment R on Review { id author { id name } }`,
    variables: { no: false },
  },
  { name: '@inaccessible field is not queryable', query: `{ products { id code } }` },
  { name: '@inaccessible type is not reachable', query: `{ secret { value } }` },
  { name: '@inaccessible argument is not accepted', query: `{ search(text: "a", debug: true) { __typename } }` },
  {
    name: '@inaccessible enum value is refused as a variable',
    query: `query($m: SearchMode) { search(text: "a", mode: $m) { __typename } }`,
    variables: { m: 'LEGACY' },
  },
  { name: 'variable of the wrong type', query: `query($id: ID!) { product(id: $id) { id } }`, variables: { id: { no: 1 } } },
  { name: 'missing required variable', query: `query($id: ID!) { product(id: $id) { id } }` },
  {
    name: 'introspection of a type hides @inaccessible',
    query: `{ __type(name: "Product") { name fields { name } } e: __type(name: "SearchMode") { enumValues { name } } }`,
  },
  { name: '__typename at the root and in entities', query: `{ __typename product(id: "p2") { __typename id inStock } }` },
];
