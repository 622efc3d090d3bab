// End-to-end hooks start and stop real processes; give them time (the default is 5 s).
jest.setTimeout(120_000);
