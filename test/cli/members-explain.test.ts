import { describe, expect, it } from 'vitest';
import { renderMembers } from '../../runtime/cli/members-command.js';

// `murmur members --explain` for the verdicts beyond suspect: an unreliable device, and a
// device the multicast group reaches only one way. Rendered from /v1/members as the agent serves it.

const plain = { color: false, width: 200 };

describe('members --explain', () => {
  it('says why a device is unreliable and what it takes to be alive again', () => {
    const out = renderMembers(
      [
        {
          id: 'pi-garden',
          status: 'unreliable',
          gen: 3,
          addr: '10.0.0.7:7946',
          lastHeardMsAgo: 800,
          suspicion: null,
          reliability: { outageMs: 20_000, backForMs: 4_000, holdMsLeft: 26_000, delivery: 0.42, fleetDelivery: 0.9 },
          groupPath: { groupSilentMs: 100, notHeardOnGroup: false, doesNotHearUs: false },
        },
      ],
      true,
      plain,
    );
    expect(out).toMatch(/pi-garden\s+unreliable\s+3/);
    expect(out).toContain('pi-garden is unreliable: it came back after 20s of silence 4s ago; 42% of its heartbeats arrive here (fleet: 90%); alive again in 26s at the earliest');
    expect(out).not.toContain('reached one way');
  });

  it('says which way the multicast group fails for a device reached one way', () => {
    const out = renderMembers(
      [
        { id: 'mute', status: 'alive', groupPath: { groupSilentMs: 12_000, notHeardOnGroup: true, doesNotHearUs: false } },
        { id: 'deaf', status: 'alive', groupPath: { groupSilentMs: 50, notHeardOnGroup: false, doesNotHearUs: true } },
        { id: 'fine', status: 'alive', groupPath: { groupSilentMs: 50, notHeardOnGroup: false, doesNotHearUs: false } },
      ],
      true,
      plain,
    );
    expect(out).toContain('mute is reached one way on the multicast group: its multicast has not reached this node for 12s');
    expect(out).toContain('deaf is reached one way on the multicast group: it does not hear the multicast of this node and asked for direct heartbeats');
    expect(out).not.toContain('fine is');
  });
  it('says which devices ask for more time between heartbeats and how much silence this node allows them', () => {
    const out = renderMembers(
      [
        { id: 'pi-new', status: 'alive', silenceAllowed: { intervalMs: 1_000, fleetIntervalMs: 250, silenceMs: 4_000 } },
        { id: 'pi-old', status: 'alive', silenceAllowed: { intervalMs: 250, fleetIntervalMs: 250, silenceMs: 1_000 } },
      ],
      true,
      plain,
    );
    expect(out).toContain("pi-new asks for 1s between heartbeats, more than the fleet's 250ms (it is joining, stalled lately, or sees a larger fleet): this node waits for 4s of silence before it checks on it");
    expect(out).not.toMatch(/pi-old asks/);
  });
});
