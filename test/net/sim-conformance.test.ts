import { EventQueue } from '../../runtime/sim/event-queue.js';
import { SimNetwork, type Delivery } from '../../runtime/sim/network.js';
import { Prng } from '../../runtime/sim/prng.js';
import { SimTransport } from '../../runtime/sim/sim-transport.js';
import { transportConformance, type TransportUnderTest } from './transport-conformance.js';

/** One simulated segment (no loss) and the clock that drives it. */
function simulated(): TransportUnderTest {
  const queue = new EventQueue<Delivery>();
  let now = 0;
  let network: SimNetwork | undefined;
  let n = 0;
  return {
    open: async ({ budget, multicast }) => {
      network ??= new SimNetwork({ loss: 0, budget }, queue as EventQueue<Delivery | { kind: string }>, new Prng(1));
      return new SimTransport({ network, addr: `sim:t${n++}`, multicast, clock: () => now });
    },
    deliver: async () => {
      for (let e = queue.pop(); e; e = queue.pop()) {
        now = e.at;
        network!.deliver(e.item);
      }
    },
  };
}

transportConformance('simulated', simulated);
