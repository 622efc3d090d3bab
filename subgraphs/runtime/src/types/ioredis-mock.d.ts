// ioredis-mock ships no types of its own (they live in @types/ioredis-mock, which pins another ioredis);
// we only construct it and use it through ioredis's own Redis type.
declare module 'ioredis-mock' {
  class RedisMock {
    constructor(options?: Record<string, unknown>);
  }
  export = RedisMock;
}
