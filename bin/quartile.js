#!/usr/bin/env node
// Entry point for `npx quartile`. The engine ships as TypeScript and runs through tsx's
// loader, so the code a user runs is exactly the code in src/ (no stale build output).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
