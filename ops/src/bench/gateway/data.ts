/**
 * Deterministic data of the gateway benchmark scenario (accounts, products, inventory, reviews).
 *
 * Everything comes from a fixed-seed PRNG, so every run, every process and every gateway sees the
 * same rows and the expected response bodies can be computed once from here. All strings are ASCII:
 * autocannon joins response chunks as strings, which would split a multi-byte character in two.
 */

export interface User {
  id: string;
  name: string;
  username: string;
  birthday: number;
}

export interface Product {
  upc: string;
  name: string;
  /** In cents. */
  price: number;
  /** In grams / 10. */
  weight: number;
}

export interface Stock {
  upc: string;
  inStock: boolean;
}

export interface Review {
  id: string;
  body: string;
  authorId: string;
  productUpc: string;
}

export interface Dataset {
  users: User[];
  products: Product[];
  inventory: Stock[];
  reviews: Review[];
}

export const SEED = 0x5eed_2024;
export const USER_COUNT = 6;
export const PRODUCT_COUNT = 24;
export const REVIEWS_PER_USER = 3;

/** mulberry32: a small, well-distributed 32-bit PRNG; the same seed always gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tony', 'Margaret', 'Niklaus'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Hoare', 'Hamilton', 'Wirth'];
const ADJECTIVES = ['Table', 'Couch', 'Chair', 'Lamp', 'Desk', 'Shelf', 'Rug', 'Stool', 'Bench', 'Mirror', 'Clock', 'Vase'];
const MATERIALS = ['Oak', 'Steel', 'Walnut', 'Glass', 'Bamboo', 'Marble', 'Linen', 'Copper'];
const OPINIONS = [
  'Love it!',
  'Too expensive.',
  'Could be better.',
  'Prefer something else.',
  'Sturdy and well made.',
  'Arrived late but works fine.',
  'Exactly as described.',
  'Would buy again.',
];

function pick<T>(items: readonly T[], rand: () => number): T {
  const item = items[Math.floor(rand() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function intBetween(min: number, max: number, rand: () => number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

/** Builds the whole dataset from SEED. Cheap (well under a millisecond); call it once per process. */
export function generateDataset(seed = SEED): Dataset {
  const rand = prng(seed);

  const users: User[] = [];
  for (let i = 1; i <= USER_COUNT; i++) {
    const first = pick(FIRST, rand);
    const last = pick(LAST, rand);
    users.push({
      id: String(i),
      name: `${first} ${last}`,
      username: `@${first.toLowerCase()}${i}`,
      birthday: intBetween(1_000_000_000, 1_600_000_000, rand),
    });
  }

  const products: Product[] = [];
  const inventory: Stock[] = [];
  for (let i = 1; i <= PRODUCT_COUNT; i++) {
    const upc = String(i);
    products.push({
      upc,
      name: `${pick(MATERIALS, rand)} ${pick(ADJECTIVES, rand)}`,
      price: intBetween(10, 2_000, rand),
      weight: intBetween(1, 120, rand),
    });
    inventory.push({ upc, inStock: rand() < 0.7 });
  }

  const reviews: Review[] = [];
  for (const user of users) {
    for (let k = 0; k < REVIEWS_PER_USER; k++) {
      const id = String(reviews.length + 1);
      const product = pick(products, rand);
      reviews.push({ id, body: `${pick(OPINIONS, rand)} (review ${id})`, authorId: user.id, productUpc: product.upc });
    }
  }

  return { users, products, inventory, reviews };
}

/** The inventory subgraph's `@requires(fields: "price weight")` computation. */
export function shippingEstimate(price: number, weight: number): number {
  // Free for expensive items, otherwise half the weight, rounded up (an Int).
  return price > 1_000 ? 0 : Math.ceil(weight / 2);
}

/** Lookups by key, built once per process. */
export interface Indexes {
  usersById: Map<string, User>;
  productsByUpc: Map<string, Product>;
  stockByUpc: Map<string, Stock>;
  reviewsById: Map<string, Review>;
  reviewsByAuthor: Map<string, Review[]>;
  reviewsByProduct: Map<string, Review[]>;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export function indexDataset(data: Dataset): Indexes {
  return {
    usersById: new Map(data.users.map((u) => [u.id, u])),
    productsByUpc: new Map(data.products.map((p) => [p.upc, p])),
    stockByUpc: new Map(data.inventory.map((s) => [s.upc, s])),
    reviewsById: new Map(data.reviews.map((r) => [r.id, r])),
    reviewsByAuthor: groupBy(data.reviews, (r) => r.authorId),
    reviewsByProduct: groupBy(data.reviews, (r) => r.productUpc),
  };
}
