/**
 * The Worker that bench/latency.ts runs in workerd: the real edge entry, plus /bench/* routes that
 * the production entry (edge/index.ts) does not have:
 *   /bench/noop                  nothing (measures the HTTP hop of the client-side timings)
 *   /bench/reset                 forget the loaded version (cold start of the next request)
 *   /bench/retrieve?user=&k=     the serving retrieval kernel alone (int8 matVec + bias + top-K)
 *   /bench/rerank?n=             a small TF.js re-ranker's cost: an MLP (features -> 64 -> 32 -> 1,
 *                                random weights) over n candidates' features (latency only)
 *   /bench/tfjs?user=&k=         the straightforward TF.js baseline: matMul over float32 item
 *                                factors + tf.topk (tfjs-core + backend-cpu, as DESIGN measured)
 *   /bench/ranker-kernel?user=   the version's learned ranking stage over a known user's real
 *   /bench/ranker-tfjs?user=     candidates: features (shared/serving/ranker.ts) then the MLP by the
 *                                typed-array dense kernel the edge serves with, or by tfjs-core
 *                                (cpu backend) over the same dequantized weights
 *   /bench/recommend?user=&stage=blend|learned   recommend() of a known user with the blend or
 *                                the learned stage forced (same request otherwise)
 *   /bench/repeat (POST)         {method, path, headers?, body?, n}: the edge handles that request n
 *                                times in a row inside the isolate; answers the mean milliseconds
 *                                (the clock ticks in whole ms, so n requests give ms / n resolution)
 * Never deployed: wrangler.toml's main is edge/index.ts.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { dequantizeInt8, dequantizeRowInt8 } from '../shared/kernels/int8.ts';
import { topK } from '../shared/kernels/topk.ts';
import type { ServingModel } from '../shared/serving/model.ts';
import { denseStack, type LearnedStage, learnedCandidates } from '../shared/serving/ranker.ts';
import { knownUser, recommend } from '../shared/serving/scoring.ts';
import edge from './index.ts';
import { liveVersion, resetLiveState } from './live.ts';

/** Re-ranker weights: [features, 64], [64, 32], [32, 1] (random: only the latency is measured). */
let reranker: { features: number; layers: { w: tf.Tensor2D; b: tf.Tensor1D }[] } | null = null;

function rerankerFor(features: number) {
  if (reranker?.features !== features) {
    const sizes = [features, 64, 32, 1];
    reranker = {
      features,
      layers: sizes.slice(1).map((out, n) => ({
        w: tf.randomNormal([sizes[n]!, out], 0, 0.1) as tf.Tensor2D,
        b: tf.zeros([out]) as tf.Tensor1D,
      })),
    };
  }
  return reranker;
}

/** The learned stage's dequantized weights as tensors (built once per stage). */
let rankerWeights: { stage: LearnedStage; layers: { w: tf.Tensor2D; b: tf.Tensor1D }[] } | null = null;
function rankerTensors(stage: LearnedStage) {
  if (rankerWeights?.stage !== stage) {
    rankerWeights = {
      stage,
      layers: stage.layers.map((l) => ({
        w: tf.tensor2d(l.kernel, [l.inputs, l.units]),
        b: tf.tensor1d(l.bias),
      })),
    };
  }
  return rankerWeights.layers;
}

let tfjsItems: { version: string; factors: tf.Tensor2D; bias: tf.Tensor1D } | null = null;

function tfjsTensors(model: ServingModel) {
  if (tfjsItems?.version !== model.version) {
    tfjsItems?.factors.dispose();
    tfjsItems?.bias.dispose();
    tfjsItems = {
      version: model.version,
      factors: tf.tensor2d(dequantizeInt8(model.itemFactors), [model.itemCount, model.dim]),
      bias: tf.tensor1d(model.itemBias),
    };
  }
  return tfjsItems;
}

/** One request, n times through the real edge entry: mean in-isolate time, status, body size. */
async function repeat(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const spec = (await request.json()) as {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    n: number;
  };
  const make = () =>
    new Request(`http://bench.local${spec.path}`, {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
    });
  // The first run outside the timing (a cold version load is not the request's own cost).
  const first = await edge.fetch(make(), env, ctx);
  const bytes = (await first.arrayBuffer()).byteLength;
  const requests = Array.from({ length: spec.n }, make); // built before the clock starts
  const started = performance.now();
  for (const r of requests) await (await edge.fetch(r, env, ctx)).arrayBuffer();
  const ms = (performance.now() - started) / spec.n;
  return Response.json({ ms, status: first.status, bytes });
}

async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const url = new URL(request.url);
  if (!url.pathname.startsWith('/bench/')) return edge.fetch(request, env, ctx);
  if (url.pathname === '/bench/noop') return Response.json({ ok: true }); // the HTTP hop alone
  if (url.pathname === '/bench/repeat') return repeat(request, env, ctx);
  if (url.pathname === '/bench/reset') {
    resetLiveState();
    return Response.json({ reset: true });
  }
  const { model } = await liveVersion(env, (p) => ctx.waitUntil(p));
  const userIndex = Number(url.searchParams.get('user') ?? 0) % model.userCount;
  const k = Number(url.searchParams.get('k') ?? 10);
  const user = model.userFactors.subarray(userIndex * model.dim, (userIndex + 1) * model.dim);
  if (url.pathname === '/bench/retrieve') {
    const scores = model.itemMatVec(user, model.scratch); // the SIMD kernel serving uses
    for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! + model.itemBias[i]!;
    const best = topK(scores, k);
    return Response.json({ ids: Array.from(best.indexes) });
  }
  if (url.pathname === '/bench/rerank') {
    // Features per candidate as a re-ranker would see them: user vector, item vector, 3 channel scores.
    await tf.setBackend('cpu');
    const n = Number(url.searchParams.get('n') ?? 100);
    const features = 2 * model.dim + 3;
    const net = rerankerFor(features);
    const input = new Float32Array(n * features);
    for (let c = 0; c < n; c++) {
      input.set(user, c * features);
      input.set(dequantizeRowInt8(model.itemFactors, c % model.itemCount), c * features + model.dim);
    }
    const scores = tf.tidy(() => {
      let x: tf.Tensor2D = tf.tensor2d(input, [n, features]);
      net.layers.forEach((layer, i) => {
        const z = tf.add(tf.matMul(x, layer.w), layer.b) as tf.Tensor2D;
        x = i < net.layers.length - 1 ? tf.relu(z) : z;
      });
      return x;
    });
    const out = Array.from(await scores.data());
    scores.dispose();
    return Response.json({ n: out.length });
  }
  if (url.pathname === '/bench/recommend') {
    const stage = url.searchParams.get('stage') === 'learned' ? 'learned' : 'blend';
    const result = recommend(model, knownUser(model, userIndex), { k, stage });
    return Response.json({ ids: result.items.map((it) => it.itemIndex) });
  }
  if (url.pathname === '/bench/ranker-kernel' || url.pathname === '/bench/ranker-tfjs') {
    const stage = model.learned as LearnedStage | null | undefined;
    if (!stage)
      return Response.json({ error: { code: 'no_ranker', message: 'no learned stage' } }, { status: 404 });
    const found = learnedCandidates(model, knownUser(model, userIndex), { k }, stage.config.perChannel);
    const m = found.ids.length;
    if (url.pathname === '/bench/ranker-kernel') {
      const scores = denseStack(stage.layers, found.features, m);
      return Response.json({ n: m, best: topK(scores, k).indexes[0] ?? null });
    }
    await tf.setBackend('cpu');
    const weights = rankerTensors(stage);
    const scores = tf.tidy(() => {
      let x: tf.Tensor2D = tf.tensor2d(found.features, [m, stage.layers[0]!.inputs]);
      weights.forEach((layer, i) => {
        const z = tf.add(tf.matMul(x, layer.w), layer.b) as tf.Tensor2D;
        x = i < weights.length - 1 ? tf.relu(z) : z;
      });
      return tf.reshape(x, [m]);
    });
    const out = (await scores.data()) as Float32Array;
    scores.dispose();
    return Response.json({ n: m, best: topK(out, k).indexes[0] ?? null });
  }
  if (url.pathname === '/bench/tfjs') {
    await tf.setBackend('cpu');
    const items = tfjsTensors(model);
    const ids = tf.tidy(() => {
      const scores = tf.add(
        tf.reshape(tf.matMul(items.factors, tf.tensor2d(user, [model.dim, 1])), [model.itemCount]),
        items.bias,
      );
      return tf.topk(scores, k).indices;
    });
    const out = Array.from(await ids.data());
    ids.dispose();
    return Response.json({ ids: out });
  }
  return Response.json(
    { error: { code: 'not_found', message: `no bench route ${url.pathname}` } },
    { status: 404 },
  );
}

export default {
  async fetch(request, env, ctx) {
    // Time inside the isolate too (x-compute-ms: handler + body), apart from the HTTP hop the
    // client sees. workerd advances performance.now() during execution when run locally.
    const started = performance.now();
    const response = await route(request, env, ctx);
    const body = await response.arrayBuffer();
    const headers = new Headers(response.headers);
    headers.set('x-compute-ms', String(performance.now() - started));
    return new Response(body, { status: response.status, headers });
  },
  scheduled: edge.scheduled,
} satisfies ExportedHandler<Env>;
