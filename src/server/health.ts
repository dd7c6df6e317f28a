import type { ArchiverStats } from '../archiver/index.js';

/** What readiness needs of the archiver. */
export interface ArchiverView {
  getStats(): ArchiverStats;
  /**
   * True while the consumer is a member of its group (after a join, until it leaves or
   * restarts). Optional: without it, readiness means "subscribed to at least one topic".
   */
  readonly joined?: boolean;
}

export interface Readiness {
  ready: boolean;
  /** Why not, when not ready. */
  reason?: string;
  topics: number;
  assignedPartitions: number;
  pausedPartitions: number;
}

/**
 * Ready once the archiver consumes: its consumer is subscribed to the topics it found (and, when
 * the archiver reports it, has joined the group). Not ready while starting, while no configured
 * topic exists, while the consumer restarts after a crash, and while the service stops. Paused
 * partitions (a failing disk) do not make it unready: /metrics reports them.
 */
export function readiness(archiver: ArchiverView, stopping: boolean): Readiness {
  const s = archiver.getStats();
  const facts = {
    topics: s.topics.length,
    assignedPartitions: s.assignedPartitions,
    pausedPartitions: s.pausedPartitions,
  };
  if (stopping) return { ready: false, reason: 'stopping', ...facts };
  if (s.kafkaProblem !== undefined) {
    return { ready: false, reason: `cannot use Kafka: ${s.kafkaProblem}`, ...facts };
  }
  if (s.topics.length === 0) {
    return {
      ready: false,
      reason:
        'not subscribed to any topic: starting, no configured topic exists yet, or the consumer is restarting',
      ...facts,
    };
  }
  if (archiver.joined === false) {
    return { ready: false, reason: 'waiting to join the consumer group', ...facts };
  }
  return { ready: true, ...facts };
}
