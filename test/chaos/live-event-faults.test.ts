/**
 * The chaos suite: a simulated live event against a cluster of Quartile processes on
 * the real Kafka, schema registry and Redis, with one fault injected mid-break per
 * scenario. Each must end with `reconcile` ok: no impression lost or billed twice, no
 * beacon fired twice or lost without an explanation, every bad event accounted for.
 *
 * Scenarios 5 and 6 restart the SHARED Kafka and Redis of ci/services, which is why
 * the chaos suite runs on its own, one file at a time (`npm run test:chaos`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { chaosSkip, restartService } from '../helpers/process-cluster.ts';
import { runScenario } from '../helpers/chaos-scenario.ts';

const TIMEOUT = 600_000;

function assertReconciled(result: Awaited<ReturnType<typeof runScenario>>): void {
  const { report } = result.outcome.drain;
  assert.equal(report.ok, true, `${result.faultDone}\n${JSON.stringify(report, null, 1)}`);
  assert.ok(report.expected.billable > 1000, `a live event big enough to matter: ${report.expected.billable} impressions`);
  // Ad decisions need neither the event log nor the warehouse: a fault there must not cost a break its ads.
  assert.equal(result.outcome.summary.decisionsFailed, 0, JSON.stringify(result.outcome.summary.decisionFailures));
}

describe('chaos: a live event survives one fault at a time', { skip: chaosSkip(), timeout: TIMEOUT * 7 }, () => {
  it('1. the pipeline is killed (-9) mid-break and restarted', { timeout: TIMEOUT }, async () => {
    const result = await runScenario({
      name: 'pipeline kill -9 + restart',
      fault: async (cluster) => {
        await cluster.pipelines[0]!.kill('SIGKILL');
        await sleep(3000);
        await cluster.pipelines[0]!.restart();
        return 'pipeline killed (-9), back after 3 s';
      },
    });
    assertReconciled(result);
  });

  it('2. one of two pipelines is killed and its partitions move to the other', { timeout: TIMEOUT }, async () => {
    const result = await runScenario({
      name: 'two pipelines, one killed',
      cluster: { pipelines: 2 },
      observer: (c) => c.pipelines[1]!,
      fault: async (cluster) => {
        await cluster.pipelines[0]!.kill('SIGKILL');
        return 'pipeline 1 of 2 killed (-9), not restarted';
      },
    });
    assertReconciled(result);
  });

  it('3. ClickHouse is unavailable for 30 s', { timeout: TIMEOUT }, async () => {
    const result = await runScenario({
      name: 'ClickHouse down 30 s',
      fault: async (cluster) => {
        await cluster.warehouse.kill('SIGKILL');
        await sleep(30_000);
        await cluster.warehouse.restart();
        return 'warehouse killed (-9), back after 30 s';
      },
    });
    assertReconciled(result);
  });

  it('4. a vendor answers 503 for 60 s, then recovers', { timeout: TIMEOUT }, async () => {
    let failed = 0;
    const result = await runScenario({
      name: 'vendor 503 for 60 s',
      fault: async (_cluster, world) => {
        const dv = world.vendors.find((v) => v.name === 'dv')!;
        dv.failFor(60_000);
        await sleep(60_000);
        failed = dv.hits().failed;
        return `dv answered 503 to ${failed} requests for 60 s`;
      },
    });
    assertReconciled(result);
    assert.ok(failed > 0, 'the vendor outage was seen by the pixels sink');
  });

  it('5. the Kafka broker restarts', { timeout: TIMEOUT }, async () => {
    const result = await runScenario({
      name: 'Kafka broker restart',
      fault: async () => {
        const t = Date.now();
        await restartService('kafka');
        return `Kafka restarted in ${Math.round((Date.now() - t) / 1000)} s`;
      },
    });
    assertReconciled(result);
  });

  it('6. Redis restarts (its AOF keeps the state)', { timeout: TIMEOUT }, async () => {
    const result = await runScenario({
      name: 'Redis restart',
      fault: async () => {
        const t = Date.now();
        await restartService('redis');
        return `Redis restarted in ${Math.round((Date.now() - t) / 1000)} s`;
      },
    });
    assertReconciled(result);
  });

  it('7. the collector is killed (-9) with batches in flight; clients retry', { timeout: TIMEOUT }, async () => {
    const result = await runScenario({
      name: 'collector kill -9',
      fault: async (cluster) => {
        await cluster.collector.kill('SIGKILL');
        await sleep(2000);
        await cluster.collector.restart();
        return 'collector killed (-9), back after 2 s';
      },
    });
    assertReconciled(result);
    assert.ok(result.outcome.summary.clientRetries > 0, 'the producer clients retried what the dead collector never answered');
  });
});
