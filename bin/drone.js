#!/usr/bin/env node
import { answerVersion } from './answer-version.js';

answerVersion('drone');
await import('../dist/server/cli/drone.js');
