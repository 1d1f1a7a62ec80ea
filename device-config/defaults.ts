// The configuration a device runs with when its config file says nothing. Every value is chosen
// so that an empty file gives a working node on a typical LAN; the reason is beside each one.

export const defaults = {
  node: {
    /** Unset: the id chosen on first start (hostname plus a random suffix), kept in the state directory. */
    name: undefined as string | undefined,
    /**
     * Unset: no name. The fleet's name, shown in status, so a person at a device (or reading a
     * log) can tell which fleet it belongs to; it belongs in the fleet-wide file. Membership is
     * decided by the fleet key, never by this name.
     */
    fleet: undefined as string | undefined,
    /** Holds identity, boot counter, own keys and the API socket. */
    stateDir: '/var/lib/murmur',
    /** Timing profile: "lan" for wired or good Wi-Fi, "wifi" for lossy, bursty links. */
    profile: 'lan',
  },
  network: {
    /** Both families: an IPv6-only segment still works, and so does a device with no IPv6. */
    families: ['ipv4', 'ipv6'] as string[],
    /** "auto": every up, multicast-capable interface (eth0 and wlan0 at once on many Pis). */
    interfaces: 'auto' as string[] | 'auto',
    multicast: true,
    /** Organisation-local scope (RFC 2365): never routed off the site. */
    group4: '239.255.77.77',
    /** Link-local scope: stays on the segment, joined per interface. */
    group6: 'ff02::77:77',
    groupPort: 7477,
    /** This node's unicast port; seeds without a port use it too. */
    port: 7478,
    /** One hop: gossip is for the local segment. */
    ttl: 1,
    /** Unicast addresses to contact at start, for networks where multicast does not get through. */
    seeds: [] as string[],
    /** How often interfaces are re-read to follow cables, Wi-Fi and DHCP. */
    interfaceCheckMs: 5000,
  },
  security: {
    /**
     * File holding the fleet key (base64 of 32 bytes, from `murmur keys generate`), written at
     * flash time. Read on first start only, into the keyring in the state directory. Unset: the
     * device makes up its own key and is a fleet of one until it is given the fleet's.
     */
    fleetKeyFile: undefined as string | undefined,
    /**
     * The fleet admin's public key (base64, from `murmur admin init`). Set: only devices holding a
     * certificate signed by it are admitted, and revocations it signs are enforced.
     */
    adminPublicKey: undefined as string | undefined,
    /** Days a removed fleet key is still answered with the new keyring, for devices that were off during a rotation. */
    keyGraceDays: 30,
  },
  hal: {
    /** Root under which drivers find /sys, /proc and /dev: "/" on a device; a fake tree for demos and tests. */
    root: '/',
    /**
     * "auto": a status LED that is not found is simulated (shown in the log and `murmur status`),
     * and a machine with no sensor hardware at all also gets a simulated environment sensor, so
     * `npm start` on a laptop shows the whole path. true: simulate all of it. false: never.
     */
    simulate: 'auto' as boolean | 'auto',
    /**
     * Status LEDs. "auto" picks the on-board ACT (or led0) LED when the kernel exposes it, else a
     * simulated one. A LED on a header pin: { "name": "status", "pin": 17 } (BCM line number;
     * libgpiod tools when installed, else sysfs GPIO).
     */
    leds: [{ name: 'status', backend: 'auto' }] as Array<Record<string, unknown>>,
    /** "auto": the sensors this machine has (CPU temperature, throttling, Wi-Fi, load, memory, disk, uptime, 1-Wire, IIO); or a list. */
    sensors: 'auto' as 'auto' | Array<Record<string, unknown>>,
    sampling: {
      /** Cron expression with seconds; each sensor may set its own. */
      schedule: '*/30 * * * * *',
      /** An unchanged reading is republished this often, so readers can tell a quiet sensor from a dead one. */
      maxIntervalS: 300,
      /** Each device offsets each sensor by a fixed share of this, so a fleet does not sample (and gossip) in lock-step. */
      spreadS: 10,
      /** A read that takes longer becomes an error reading; the sensor is tried again on its next tick. */
      timeoutS: 10,
    },
  },
  api: {
    /** Unix socket of the local API, relative to the state directory unless absolute. */
    socket: 'murmur.sock',
    /**
     * Unset: the socket keeps the service's own group. A group name or gid whose members may
     * use the API (and so `murmur keys`, `identify`...) without being root or the service user.
     */
    group: undefined as string | number | undefined,
    /**
     * Unset: no TCP listener, the Unix socket only, whose file mode says who may connect. Set
     * ("127.0.0.1:7479", "[::1]:7479"): also listen there, for clients that cannot use a Unix
     * socket. Loopback only, always: the API trusts whoever reaches it.
     */
    tcp: undefined as string | undefined,
    /**
     * With api.tcp: the file holding the bearer token every TCP request must carry, relative to
     * the state directory unless absolute. Made (0600, random) at start when missing; the CLI
     * reads it to talk TCP. File permissions protect nothing on TCP, so this file is what does.
     */
    tokenFile: 'api-token',
  },
  http: {
    /**
     * Unset: no fleet page. Set ("127.0.0.1:7480" for this machine only, "0.0.0.0:7480" for the
     * LAN): serve the read-only fleet page there. Beyond loopback it asks for the token below.
     */
    listen: undefined as string | undefined,
    /**
     * The fleet page's token, relative to the state directory unless absolute. Made (0600,
     * random) at start when missing. Beyond loopback every page request carries it, and Identify
     * from the page needs it everywhere (as the CLI needs access to the API).
     */
    tokenFile: 'page-token',
    /** Pages open at once (each holds one live stream); one more is refused with 503. */
    maxClients: 4,
  },
  /**
   * Unset: only the built-in queries (version, uptime, sensors, config-hash). Fleet queries this
   * device answers by running a command, by name: { "disk-free": { "command": ["df", "-h", "/"] } }.
   * No shell; the asker's payload on stdin; killed after timeoutMs (default 2000).
   */
  queries: undefined as Record<string, unknown> | undefined,
  metrics: {
    /** Prometheus metrics at GET /metrics of the local API (socket, and api.tcp with its token). Off: nothing is counted for them. */
    enabled: false,
    /**
     * Unset: metrics stay on the device. Set ("0.0.0.0:9479", "192.0.2.7:9479", "[::]:9479"):
     * also serve GET /metrics there, for a Prometheus server on the LAN. Read-only, and every
     * scrape must carry the bearer token in metrics.tokenFile.
     */
    listen: undefined as string | undefined,
    /** With metrics.listen: the bearer token file, relative to the state directory unless absolute; made (0600, random) when missing. */
    tokenFile: 'metrics-token',
    /** Series labelled per peer (last heard, status). Off: a fleet's size would set the number of series. */
    peerLabels: false,
    /** With peerLabels: at most this many peers (the first by id) get series of their own. */
    maxPeers: 32,
    /** The process's CPU, RSS, heap and event-loop lag (a 100 ms timer samples the lag). */
    processMetrics: true,
  },
  hooks: {
    /** Hook processes running at once, across all hooks: a burst of events never forks a crowd on a Pi. */
    concurrency: 2,
    /**
     * Commands run on membership and key events, e.g.
     * { name: "page", on: ["member-failed"], command: ["/usr/local/bin/page", "--fleet"] }.
     * Fields: name, on, prefix (for key-changed), command, shell (false), timeoutS (30),
     * coalesceMs (1000: events within this window of the first go to one run).
     */
    commands: [] as Array<Record<string, unknown>>,
  },
  mqtt: {
    /** Off: no broker connection at all. On: this device may be the fleet's one bridge to the broker. */
    enabled: false,
    /** "mqtt://host:1883", or "mqtts://host:8883" for TLS. */
    url: undefined as string | undefined,
    username: undefined as string | undefined,
    /** The file holding the broker password (the config never holds it, so it is never shown or logged). */
    passwordFile: undefined as string | undefined,
    /** TLS: the broker's CA, and a client certificate and its key if the broker asks for one. */
    caFile: undefined as string | undefined,
    certFile: undefined as string | undefined,
    keyFile: undefined as string | undefined,
    /** Readings and availability go under <topicPrefix>/<device>/. */
    topicPrefix: 'murmur',
    /** Home Assistant MQTT discovery; null: none. */
    discoveryPrefix: 'homeassistant' as string | null,
    /** Key prefixes published besides sensor readings, e.g. ["app/"]. */
    keys: [] as string[],
    /** Accept identify commands from MQTT (a Home Assistant button per device). */
    commands: false,
  },
  log: {
    /** A line per event that changes something (joins, deaths, key changes); "debug" adds one per key change, too many for an SD card. */
    level: 'info',
  },
};
