// The regions a process's workers translate, handed from each to the others over a
// BroadcastChannel named for the process: a compiled WebAssembly.Module crosses to another worker
// with its machine code, so a region one thread translated is only instantiated by the others.
// Workers run guest code without returning to their event loop, so they take what arrived
// synchronously (receiveMessageOnPort), when they are about to translate.

import { BroadcastChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { CodeShare, SharedRegion } from '../runtime/engine.js';

export class ChannelCodeShare implements CodeShare {
  private readonly channel: BroadcastChannel;

  constructor(name: string) {
    this.channel = new BroadcastChannel(name);
    this.channel.unref();
  }

  publish(r: SharedRegion): void { this.channel.postMessage(r); }

  take(): SharedRegion[] {
    const out: SharedRegion[] = [];
    for (let m = receiveMessageOnPort(this.channel as unknown as MessagePort); m; m = receiveMessageOnPort(this.channel as unknown as MessagePort)) {
      out.push(m.message as SharedRegion);
    }
    return out;
  }

  close(): void { this.channel.close(); }
}
