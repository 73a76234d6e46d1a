/**
 * The isolate's heap through the V8 inspector workerd exposes (Runtime.getHeapUsage): JS heap
 * (usedSize) plus ArrayBuffer backing stores as V8 reports them (typed arrays, wasm memory).
 * workerd's inspector does not implement HeapProfiler.collectGarbage: this includes garbage not
 * yet collected, an upper bound of what the version retains.
 */
export async function isolateHeapMB(
  inspectorPort: number,
): Promise<{ jsHeapMB: number; arrayBuffersMB: number; embedderMB: number; totalMB: number }> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as {
    id: string;
    webSocketDebuggerUrl: string;
  }[];
  const target = targets.find((t) => t.id === 'core:user:') ?? targets[0];
  if (!target) throw new Error('no inspector target');
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolveOpen, reject) => {
    ws.addEventListener('open', resolveOpen);
    ws.addEventListener('error', reject);
  });
  let id = 0;
  const send = (method: string) =>
    new Promise<Record<string, number>>((resolveReply) => {
      const mine = ++id;
      const onMessage = (event: MessageEvent) => {
        const reply = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, number> };
        if (reply.id !== mine) return;
        ws.removeEventListener('message', onMessage);
        resolveReply(reply.result ?? {});
      };
      ws.addEventListener('message', onMessage);
      ws.send(JSON.stringify({ id: mine, method }));
    });
  const usage = await send('Runtime.getHeapUsage');
  ws.close();
  const mb = (x: number | undefined) => Math.round(((x ?? 0) / 2 ** 20) * 10) / 10;
  return {
    jsHeapMB: mb(usage.usedSize),
    arrayBuffersMB: mb(usage.backingStorageSize),
    embedderMB: mb(usage.embedderHeapUsedSize),
    totalMB: mb((usage.usedSize ?? 0) + (usage.backingStorageSize ?? 0)),
  };
}

/**
 * Runs `main` where the global WebSocket exists (the inspector client needs it): at once on
 * Node >= 22, else in a child process started with Node 20's --experimental-websocket.
 */
export async function withWebSocket(benchFile: string, main: () => Promise<void>): Promise<void> {
  if (typeof globalThis.WebSocket !== 'undefined') return main();
  const { spawnSync } = await import('node:child_process');
  const child = spawnSync(
    process.execPath,
    ['--experimental-websocket', '--import', 'tsx', benchFile, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
}
