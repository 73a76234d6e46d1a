import { Hono } from 'hono';

const app = new Hono<{ Bindings: Env }>();
app.get('/v1/health', (c) => c.json({ status: 'starting' }));

export default app;
