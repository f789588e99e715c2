#!/usr/bin/env node
// Runs the TypeScript source directly: tsx's loader is registered before main.ts is imported.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
