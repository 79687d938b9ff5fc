import type { PairLedger } from './pair-load';
import { parsePairContent } from './pair-load';
import type { ReconnectingReceiver } from './reconnecting-receiver';

/**
 * What the recipients got, held against what the senders were told. The definitions (the
 * contract is at-least-once delivery, clients dedupe on the envelope id, and per
 * sender-device → recipient-device order):
 *
 * - accepted: sends answered 2xx.
 * - delivered: accepted sends that reached their recipient device at least once.
 * - lost: accepted sends that never reached it.
 * - redelivered (allowed): an envelope id arriving again on a LATER connection of the device —
 *   its ack may have died with the old connection; the client drops it by id.
 * - duplicates by id (a defect): one envelope id pushed twice on the SAME connection.
 * - duplicates by seq (a defect: stored twice): one (pair, seq) arriving under two or more
 *   distinct envelope ids — the retried send (same Idempotency-Key) or a federated batch stored
 *   again. Counted once per such seq.
 * - out of order (a defect): taking each pair's envelopes in arrival order, first arrival of each
 *   id only and first id of each seq only, an envelope whose seq is lower than one that came before
 *   it. The pair's sends are strictly sequential (see PairLoad), so any such inversion breaks the
 *   contract — on the federated path as much as on the local one.
 * - misrouted (a defect): an envelope of this run on a device that is not its pair's recipient.
 */
export interface DeliveryTally {
  accepted: number;
  delivered: number;
  lost: number;
  /** Sends without a 2xx (the one being retried when the load stopped) that arrived anyway: allowed. */
  unansweredDelivered: number;
  redelivered: number;
  duplicatesById: number;
  duplicatesBySeq: number;
  outOfOrder: number;
  misrouted: number;
  /** A few examples of each defect, for the failure message. */
  examples: string[];
}

interface PairView {
  firstArrivalBySeq: Map<number, number>;
  idsBySeq: Map<number, Set<string>>;
  orderInversions: string[];
}

export class DeliveryAudit {
  constructor(
    private readonly tag: string,
    private readonly pairs: PairLedger[],
    private readonly receivers: Map<string, ReconnectingReceiver>,
  ) {}

  tally(): DeliveryTally {
    const { views, redelivered, duplicatesById, misrouted, examples } = this.scan();
    const out: DeliveryTally = {
      accepted: 0,
      delivered: 0,
      lost: 0,
      unansweredDelivered: 0,
      redelivered,
      duplicatesById,
      duplicatesBySeq: 0,
      outOfOrder: 0,
      misrouted,
      examples,
    };
    for (const pair of this.pairs) {
      const view = views.get(pair.key)!;
      for (const seq of pair.acceptedAt.keys()) {
        out.accepted++;
        if (view.firstArrivalBySeq.has(seq)) out.delivered++;
        else {
          out.lost++;
          if (examples.length < 20) examples.push(`lost ${pair.key} seq ${seq}`);
        }
      }
      for (const [seq, ids] of view.idsBySeq) {
        if (!pair.acceptedAt.has(seq)) out.unansweredDelivered++;
        if (ids.size > 1) {
          out.duplicatesBySeq++;
          if (examples.length < 20) examples.push(`stored twice ${pair.key} seq ${seq}: ${ids.size} ids`);
        }
      }
      out.outOfOrder += view.orderInversions.length;
      for (const inversion of view.orderInversions.slice(0, 3)) if (examples.length < 20) examples.push(inversion);
    }
    return out;
  }

  /**
   * When the homeservers were whole again after a fault that ended at `faultEndedAt`: the first
   * moment by which (a) every pair has delivered a send that began after the fault ended and
   * (b) every send accepted before the fault ended has been delivered. Null while not yet so.
   */
  recoveredAt(faultEndedAt: number): number | null {
    const { views } = this.scan();
    let latest = faultEndedAt;
    for (const pair of this.pairs) {
      const view = views.get(pair.key)!;
      let fresh: number | null = null;
      for (const [seq, at] of view.firstArrivalBySeq) {
        if ((pair.firstAttemptAt.get(seq) ?? 0) >= faultEndedAt && (fresh === null || at < fresh)) fresh = at;
      }
      if (fresh === null) return null;
      latest = Math.max(latest, fresh);
      for (const [seq, acceptedAt] of pair.acceptedAt) {
        if (acceptedAt > faultEndedAt) continue;
        const at = view.firstArrivalBySeq.get(seq);
        if (at === undefined) return null;
        latest = Math.max(latest, at);
      }
    }
    return latest;
  }

  /** True once every accepted send has arrived. */
  allDelivered(): boolean {
    const { views } = this.scan();
    return this.pairs.every((pair) => [...pair.acceptedAt.keys()].every((seq) => views.get(pair.key)!.firstArrivalBySeq.has(seq)));
  }

  /** True once every pair has had at least `n` sends delivered. */
  everyPairDelivered(n = 1): boolean {
    return this.pairsBelow(n).length === 0;
  }

  /** The pairs that have had fewer than `n` sends delivered. */
  pairsBelow(n: number): string[] {
    const { views } = this.scan();
    return this.pairs.filter((pair) => views.get(pair.key)!.firstArrivalBySeq.size < n).map((pair) => pair.key);
  }

  private scan() {
    const views = new Map<string, PairView>(
      this.pairs.map((p) => [p.key, { firstArrivalBySeq: new Map(), idsBySeq: new Map(), orderInversions: [] }]),
    );
    const highest = new Map<string, number>();
    let redelivered = 0;
    let duplicatesById = 0;
    let misrouted = 0;
    const examples: string[] = [];
    for (const [label, receiver] of this.receivers) {
      const connectionOf = new Map<string, number>();
      for (const arrival of receiver.arrivals) {
        const parsed = parsePairContent(this.tag, arrival.content);
        if (!parsed) continue;
        const view = views.get(parsed.pair);
        if (!view || parsed.pair.split('>')[1] !== label) {
          misrouted++;
          if (examples.length < 20) examples.push(`misrouted ${parsed.pair} seq ${parsed.seq} to ${label}`);
          continue;
        }
        const seenOn = connectionOf.get(arrival.id);
        if (seenOn !== undefined) {
          if (seenOn === arrival.connection) {
            duplicatesById++;
            if (examples.length < 20) examples.push(`id pushed twice on one connection: ${parsed.pair} seq ${parsed.seq}`);
          } else redelivered++;
          connectionOf.set(arrival.id, arrival.connection);
          continue;
        }
        connectionOf.set(arrival.id, arrival.connection);
        const ids = view.idsBySeq.get(parsed.seq) ?? new Set<string>();
        ids.add(arrival.id);
        view.idsBySeq.set(parsed.seq, ids);
        if (view.firstArrivalBySeq.has(parsed.seq)) continue; // a second id of one seq: counted as stored twice, not as order
        view.firstArrivalBySeq.set(parsed.seq, arrival.at);
        const top = highest.get(parsed.pair) ?? -1;
        if (parsed.seq < top) view.orderInversions.push(`out of order ${parsed.pair}: seq ${parsed.seq} after ${top}`);
        else highest.set(parsed.pair, parsed.seq);
      }
    }
    return { views, redelivered, duplicatesById, misrouted, examples };
  }
}
