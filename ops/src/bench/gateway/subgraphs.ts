/**
 * The four subgraphs of the gateway benchmark: Federation 2 SDL and resolvers over the deterministic
 * dataset. Modelled on the federation scenario of graphql-hive/graphql-gateways-benchmark: accounts
 * owns users, products owns products, inventory extends products with stock and a shipping estimate
 * that `@requires` price and weight, reviews links users and products and `@provides` the author's
 * username.
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import { generateDataset, indexDataset, shippingEstimate, type Indexes } from './data';

export const SUBGRAPH_NAMES = ['accounts', 'products', 'inventory', 'reviews'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export function isSubgraphName(name: string): name is SubgraphName {
  return (SUBGRAPH_NAMES as readonly string[]).includes(name);
}

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires", "@provides"])';

export const SUBGRAPH_SDL: Record<SubgraphName, string> = {
  accounts: `${LINK}

type Query {
  me: User
  user(id: ID!): User
  users: [User]
}

type User @key(fields: "id") {
  id: ID!
  name: String
  username: String @shareable
  birthday: Int
}
`,
  products: `${LINK}

type Query {
  topProducts(first: Int = 5): [Product]
}

type Product @key(fields: "upc") {
  upc: String!
  name: String
  price: Int
  weight: Int
}
`,
  inventory: `${LINK}

type Product @key(fields: "upc") {
  upc: String!
  weight: Int @external
  price: Int @external
  inStock: Boolean
  shippingEstimate: Int @requires(fields: "price weight")
}
`,
  reviews: `${LINK}

type Review @key(fields: "id") {
  id: ID!
  body: String
  author: User @provides(fields: "username")
  product: Product
}

type User @key(fields: "id") {
  id: ID!
  username: String @external
  reviews: [Review]
}

type Product @key(fields: "upc") {
  upc: String!
  reviews: [Review]
}
`,
};

interface UserRef {
  id: string;
}
interface ProductRef {
  upc: string;
}
interface InventoryProductRef extends ProductRef {
  price?: number | null;
  weight?: number | null;
}
interface ReviewRef {
  id: string;
}

function resolversFor(name: SubgraphName, ix: Indexes): GraphQLResolverMap<unknown> {
  switch (name) {
    case 'accounts':
      return {
        Query: {
          me: () => ix.usersById.get('1') ?? null,
          user: (_: unknown, args: { id: string }) => ix.usersById.get(args.id) ?? null,
          users: () => [...ix.usersById.values()],
        },
        User: {
          __resolveReference: (ref: UserRef) => ix.usersById.get(ref.id) ?? null,
        },
      };
    case 'products':
      return {
        Query: {
          topProducts: (_: unknown, args: { first?: number | null }) => [...ix.productsByUpc.values()].slice(0, args.first ?? 5),
        },
        Product: {
          __resolveReference: (ref: ProductRef) => ix.productsByUpc.get(ref.upc) ?? null,
        },
      };
    case 'inventory':
      return {
        Product: {
          // The gateway sends price and weight along with the key because shippingEstimate @requires them.
          __resolveReference: (ref: InventoryProductRef) => {
            const stock = ix.stockByUpc.get(ref.upc);
            return stock ? { ...ref, inStock: stock.inStock } : null;
          },
          shippingEstimate: (product: InventoryProductRef) =>
            product.price == null || product.weight == null ? null : shippingEstimate(product.price, product.weight),
        },
      };
    case 'reviews': {
      const reviewsOf = (id: string) => ix.reviewsByAuthor.get(id) ?? [];
      return {
        Review: {
          __resolveReference: (ref: ReviewRef) => ix.reviewsById.get(ref.id) ?? null,
          // @provides(fields: "username"): this subgraph answers the author's username itself.
          author: (review: { authorId: string }) => {
            const user = ix.usersById.get(review.authorId);
            return user ? { __typename: 'User', id: user.id, username: user.username } : null;
          },
          product: (review: { productUpc: string }) => ({ __typename: 'Product', upc: review.productUpc }),
        },
        User: {
          __resolveReference: (ref: UserRef) => ({ id: ref.id }),
          reviews: (user: UserRef) => reviewsOf(user.id),
        },
        Product: {
          __resolveReference: (ref: ProductRef) => ({ upc: ref.upc }),
          reviews: (product: ProductRef) => ix.reviewsByProduct.get(product.upc) ?? [],
        },
      };
    }
  }
}

/** The executable federation schema of one subgraph, over the shared deterministic dataset. */
export function subgraphSchema(name: SubgraphName, ix: Indexes = indexDataset(generateDataset())): GraphQLSchema {
  return buildSubgraphSchema([{ typeDefs: parse(SUBGRAPH_SDL[name]), resolvers: resolversFor(name, ix) }]);
}
