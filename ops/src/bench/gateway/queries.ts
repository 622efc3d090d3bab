/**
 * The two benchmark operations and their expected responses, computed straight from the data
 * generator (not from any gateway), so every gateway is checked against the same independent answer.
 */
import { generateDataset, indexDataset, shippingEstimate, type Indexes, type Product, type Review, type User } from './data';

export interface BenchQuery {
  name: string;
  description: string;
  query: string;
  operationName: string;
  /** The `data` every correct response must carry, with fields in selection order. */
  expected(ix: Indexes): unknown;
}

const PRODUCT = 'inStock name price shippingEstimate upc weight';

/** The benchmark's deep query: users → reviews → product → reviews → author → reviews → product, plus topProducts. */
export const NESTED_QUERY = `query TestQuery {
  users {
    id username name
    reviews {
      id body
      product {
        ${PRODUCT}
        reviews {
          id body
          author {
            id username name
            reviews { id body product { ${PRODUCT} } }
          }
        }
      }
    }
  }
  topProducts {
    ${PRODUCT}
    reviews {
      id body
      author {
        id username name
        reviews { id body product { ${PRODUCT} } }
      }
    }
  }
}`;

/** A flat list: twenty products from the products subgraph joined with inventory (@requires price weight). */
export const LIST_QUERY = `query TopProducts {
  topProducts(first: 20) { upc name price weight inStock shippingEstimate }
}`;

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`dataset has no ${what}`);
  return value;
}

function productFields(ix: Indexes, upc: string) {
  const p: Product = must(ix.productsByUpc.get(upc), `product ${upc}`);
  const stock = must(ix.stockByUpc.get(upc), `stock of ${upc}`);
  return {
    inStock: stock.inStock,
    name: p.name,
    price: p.price,
    shippingEstimate: shippingEstimate(p.price, p.weight),
    upc: p.upc,
    weight: p.weight,
  };
}

function userHead(u: User) {
  return { id: u.id, username: u.username, name: u.name };
}

/** `author { id username name reviews { id body product { …PRODUCT } } }` */
function authorWithReviews(ix: Indexes, authorId: string) {
  const u = must(ix.usersById.get(authorId), `user ${authorId}`);
  return {
    ...userHead(u),
    reviews: (ix.reviewsByAuthor.get(u.id) ?? []).map((r) => ({ id: r.id, body: r.body, product: productFields(ix, r.productUpc) })),
  };
}

/** `reviews { id body author { … } }` of one product. */
function productReviews(ix: Indexes, upc: string) {
  return (ix.reviewsByProduct.get(upc) ?? []).map((r: Review) => ({ id: r.id, body: r.body, author: authorWithReviews(ix, r.authorId) }));
}

export const QUERIES: readonly BenchQuery[] = [
  {
    name: 'nested',
    description: 'deep users/reviews/products/inventory join + topProducts(5)',
    query: NESTED_QUERY,
    operationName: 'TestQuery',
    expected: (ix) => ({
      users: [...ix.usersById.values()].map((u) => ({
        ...userHead(u),
        reviews: (ix.reviewsByAuthor.get(u.id) ?? []).map((r) => ({
          id: r.id,
          body: r.body,
          product: { ...productFields(ix, r.productUpc), reviews: productReviews(ix, r.productUpc) },
        })),
      })),
      topProducts: [...ix.productsByUpc.values()]
        .slice(0, 5)
        .map((p) => ({ ...productFields(ix, p.upc), reviews: productReviews(ix, p.upc) })),
    }),
  },
  {
    name: 'list',
    description: 'topProducts(first: 20) with inventory fields',
    query: LIST_QUERY,
    operationName: 'TopProducts',
    expected: (ix) => ({
      topProducts: [...ix.productsByUpc.values()].slice(0, 20).map((p) => {
        const f = productFields(ix, p.upc);
        return { upc: f.upc, name: f.name, price: f.price, weight: f.weight, inStock: f.inStock, shippingEstimate: f.shippingEstimate };
      }),
    }),
  },
];

/** The request body sent for a query and the exact response body a correct gateway returns for it. */
export function requestBody(q: BenchQuery): string {
  return JSON.stringify({ query: q.query, operationName: q.operationName });
}

export function expectedBody(q: BenchQuery, ix: Indexes = indexDataset(generateDataset())): string {
  return JSON.stringify({ data: q.expected(ix) });
}
