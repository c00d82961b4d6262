// The yardstick: a bare Fastify route returning a small JSON body, in its own process like the real server.
import Fastify from 'fastify';

const app = Fastify();
app.get('/bare', async () => ({ status: 'ok', items: [] }));
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`listening ${address}\n`);
