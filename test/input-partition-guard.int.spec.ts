/**
 * A Postgres stage refuses to start on an input topic whose partition count changed since its state was
 * built (keyed state would split). Real broker and Postgres from the test setup.
 */
import { checkInputPartitions, InputPartitionsChangedError } from '@streamguard/common';
import { growTopicWithBrokerTool } from './support/broker-tools';
import { suiteDatabase, testKafka, uniqueName } from './support/test-infra';

describe('input partition guard', () => {
  const kafka = testKafka();
  const db = suiteDatabase();

  it('records the count on first start, accepts it again, and refuses once the topic gained partitions', async () => {
    const topic = uniqueName('guarded');
    const groupId = uniqueName('guarded-group');
    const admin = await kafka.admin();
    try {
      await admin.ensureTopics([{ topic, partitions: 2, replicationFactor: 1 }]);
      expect(await checkInputPartitions(db, admin, groupId, topic)).toBe(2);
      expect(await checkInputPartitions(db, admin, groupId, topic)).toBe(2);

      await growTopicWithBrokerTool(topic, 3);
      const refusal = await checkInputPartitions(db, admin, groupId, topic).then(() => undefined, (error: unknown) => error);
      expect(refusal).toBeInstanceOf(InputPartitionsChangedError);
      expect((refusal as InputPartitionsChangedError).fatal).toBe(true);
      expect((refusal as Error).message).toContain(`topic ${topic} has 3 partitions, but the state of consumer group ${groupId} was built for 2`);
      // Another group's state is built for what it first saw: 3.
      expect(await checkInputPartitions(db, admin, uniqueName('fresh-group'), topic)).toBe(3);
    } finally {
      await admin.disconnect();
    }
  }, 60_000);
});
