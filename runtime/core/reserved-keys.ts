// Keys under this prefix belong to murmur itself (revocations, identify requests): the local
// API neither lists nor writes them, so no application can forge or hide them.
export const RESERVED_PREFIX = '_murmur/';
