export { Prng } from './prng.js';
export { EventQueue } from './event-queue.js';
export { SimNetwork, HEADER_BYTES, defaultNetworkOptions, type NetworkOptions } from './network.js';
export { Fleet, type FleetOptions, type FleetListener } from './fleet.js';
export { FleetFigures, percentile } from './figures.js';
export { SimTransport, type SimTransportOptions } from './sim-transport.js';
