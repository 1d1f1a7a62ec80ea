import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../runtime/cli/status-command.js';

describe('murmur status output', () => {
  const base = { id: 'pi-7', gen: 1796460641, incarnation: 2, addr: '10.0.0.7:7478', profile: 'lan', multicast: true, health: 1, measuredLoss: 0.08, members: { alive: 5 } };
  const render = (extra: object): string => renderStatus({ ...base, ...extra }, { color: false, width: 100 });

  it('says when the node stalled lately and how much slack it asks its peers for', () => {
    const out = render({ stallSlackMs: 1600 });
    expect(out).toMatch(/^health\s+score 1 \(0 is best\), measured loss 8%$/m);
    expect(out).toMatch(/^\s+stalled lately: asks peers to allow 1\.6s between heartbeats$/m);
  });

  it('says the slack is for its join while it joins', () => {
    const out = render({ stallSlackMs: 1000, joining: true });
    expect(out).toMatch(/^\s+joining: asks peers to allow 1s between heartbeats$/m);
    expect(out).not.toMatch(/stalled/);
  });

  it('says nothing of stalls when it asks for no slack', () => {
    expect(render({ stallSlackMs: 0 })).not.toMatch(/stalled/);
    expect(render({})).not.toMatch(/stalled/);
  });

  it('shows uptime in the API\'s whole seconds, a node just started as 0s', () => {
    expect(render({ uptimeS: 0 })).toMatch(/^uptime\s+0s$/m);
    expect(render({ uptimeS: 75 })).toMatch(/^uptime\s+1m15s$/m);
  });
});
