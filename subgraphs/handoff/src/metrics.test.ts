import { createHandoffMetrics } from './metrics';

describe('beedesk_handoffs_waiting', () => {
  it('shows each tenant’s line as last counted, and drops counts this replica stopped refreshing', async () => {
    const metrics = createHandoffMetrics(false, 50);
    metrics.lineSeen('acme', 3);
    metrics.lineSeen('globex', 0);
    let text = await metrics.registry.metrics();
    expect(text).toContain('beedesk_handoffs_waiting{tenant="acme",service="handoff"} 3');
    expect(text).toContain('beedesk_handoffs_waiting{tenant="globex",service="handoff"} 0');
    await new Promise((r) => setTimeout(r, 80));
    metrics.lineSeen('globex', 2);
    text = await metrics.registry.metrics();
    expect(text).not.toContain('tenant="acme"');
    expect(text).toContain('beedesk_handoffs_waiting{tenant="globex",service="handoff"} 2');
  });
});
