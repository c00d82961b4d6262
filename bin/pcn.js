#!/usr/bin/env -S node --max-semi-space-size=64
// `npx pcn …`: runs the TypeScript CLI through tsx. A 64 MB young generation: bulk import keeps each group of
// ~1,000 resources alive across a few awaits, and a smaller one promotes them all (import +6–17%, docs/benchmarks.md).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
