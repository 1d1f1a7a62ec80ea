export { Prng } from './prng.js';
export { EventQueue } from './event-queue.js';
export { SimNetwork, HEADER_BYTES, defaultNetworkOptions, type NetworkOptions } from './network.js';
export { Fleet, WALL_CLOCK_EPOCH_MS, type FleetOptions, type FleetListener } from './fleet.js';
export { FleetFigures, percentile } from './figures.js';
export { FaultSchedule, parseFault, formatFault, parseDuration, type FaultSpec, type FaultKind, type ActiveFault, type LinkFaults } from './faults.js';
export { Invariants, InvariantViolation, type InvariantRule, type InvariantOptions } from './invariants.js';
export { SimTransport, type SimTransportOptions } from './sim-transport.js';
