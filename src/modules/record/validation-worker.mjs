// Worker threads do not inherit the tsx loader: register it, then run the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./validation-worker.ts');
