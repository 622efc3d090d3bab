/**
 * `@beedesk/inference/testing`: test doubles for scenarios that run the inference service, kept out of
 * the package's index so that nothing in production imports them by accident.
 */
export { FakeOpenAIServer, type FakeLlmMode } from '../engines/fake-openai-server';
