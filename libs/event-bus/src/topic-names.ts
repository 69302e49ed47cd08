import { dlqTopic, type TopicName, topicSpecs } from '@qbo/events';

/** Maps the contract's topic names to the cluster's, and back. */
export interface TopicNames {
  physical(topic: TopicName): string;
  dlq(topic: TopicName): string;
  /** The contract topic of a physical name, or undefined for a topic that is not ours. */
  logical(physical: string): TopicName | undefined;
}

export function createTopicNames(prefix = ''): TopicNames {
  const byPhysical = new Map(topicSpecs.map((t) => [`${prefix}${t.name}`, t.name]));
  return {
    physical: (topic) => `${prefix}${topic}`,
    dlq: (topic) => `${prefix}${dlqTopic(topic)}`,
    logical: (physical) => byPhysical.get(physical),
  };
}
