/**
 * Degree policy: how many neighbours a peer may have and whom it links to. Pure: randomness comes in
 * as an argument (a function returning [0, 1)).
 *
 * - `power-law` (the seed's): capacity = floor(40 * 1.5^(-order/10)), never below a floor (2), where
 *   order is the peer's registration order at the seeds, estimated from its id (joinOrder;
 *   docs/gossip.md). Early peers become hubs; the degree distribution follows the capacities. A peer
 *   dials out to half its capacity and accepts links up to all of it.
 * - `preferential`: Barabási–Albert style. A new peer makes `m` links; the first to a peer chosen at
 *   random, the others to neighbours of that peer (a random walk of one step picks a peer with
 *   probability proportional to its degree: Vázquez 2003, Saramäki & Kaski 2005), which gives the
 *   preferential attachment of the BA model without anyone knowing global degrees.
 */
import {
  ATTACHMENT_LINKS,
  ATTACHMENT_MAX_DEGREE,
  CAPACITY_BASE,
  CAPACITY_DECAY,
  CAPACITY_FLOOR,
  CAPACITY_ID_SCALE,
} from './constants.js';

export type DegreePolicyName = 'power-law' | 'preferential';

export interface DegreePolicy {
  name: DegreePolicyName;
  /** Most neighbours this peer accepts (it refuses beyond). */
  capacity: number;
  /** Degree the peer works to keep by connecting out (and by replacing lost neighbours). */
  target: number;
}

export interface PolicyOptions {
  floor?: number;
  /** preferential attachment: links a new peer makes */
  links?: number;
}

/**
 * A peer's join order estimated from its id, for the capacity formula. Seeds in separate processes
 * hand out ids from interleaved spaces (IdAllocator), leaving gaps: `density` (0..1], the joins per
 * id handed out that the seeds report, undoes the stretch, so capacities do not fall faster with
 * more seeds. One space: density 1, the id is the order.
 */
export function joinOrder(id: number, density = 1): number {
  return id * density;
}

/** The seed's capacity formula with the floor; `order` is the join order (joinOrder). */
export function powerLawCapacity(order: number, floor = CAPACITY_FLOOR): number {
  const raw = Math.floor(CAPACITY_BASE * Math.pow(CAPACITY_DECAY, -order / CAPACITY_ID_SCALE));
  return Math.max(floor, raw);
}

/** The policy of a peer whose join order (joinOrder of its id) is `order`. */
export function degreePolicy(name: DegreePolicyName, order: number, options: PolicyOptions = {}): DegreePolicy {
  const floor = options.floor ?? CAPACITY_FLOOR;
  if (name === 'power-law') {
    const capacity = powerLawCapacity(order, floor);
    // Dial out to half the capacity and keep the rest for later peers: every join then leaves as much
    // room as it takes, so a newcomer always finds a peer with room and the overlay stays connected.
    return { name, capacity, target: Math.max(1, Math.ceil(capacity / 2)) };
  }
  const links = Math.max(1, options.links ?? ATTACHMENT_LINKS);
  return { name, capacity: ATTACHMENT_MAX_DEGREE, target: Math.max(links, Math.min(floor, ATTACHMENT_MAX_DEGREE)) };
}

/** Fisher–Yates shuffle of a copy, driven by `random`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** How many seeds a peer registers with: a majority, floor(n/2)+1, as the seed did. */
export function seedQuorum(seedCount: number): number {
  return Math.floor(seedCount / 2) + 1;
}
