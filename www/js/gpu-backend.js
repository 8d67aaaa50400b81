// The worker's side of the backend choice: look at the WebGPU adapter, decide (backend-choice.js),
// and move the loaded model onto the GPU when that is the pick. Whatever fails on the way, the
// CPU backend, loaded first, stays in charge and the reason says why.
import { chooseBackend, probeAdapter, gpuLimitsText, isBackendChoice } from './backend-choice.js';

// KV cache positions on the GPU: the default context setting (a longer one is capped to it there).
export const GPU_CONTEXT = 4096;

// -> {backend: 'webgpu' | 'cpu', backendReason}
export async function selectBackend(engine, choice, why, gpu = self.navigator?.gpu) {
  const pick = isBackendChoice(choice) ? choice : 'auto';
  const adapter = pick === 'cpu' ? null : await probeAdapter(gpu);
  const chosen = chooseBackend(pick, adapter, why === 'address' ? 'the address' : 'settings');
  if (chosen.backend === 'cpu') return { backend: 'cpu', backendReason: chosen.reason };
  try {
    const summary = await engine.use_gpu(GPU_CONTEXT);
    const limits = gpuLimitsText(summary instanceof Map ? Object.fromEntries(summary) : summary);
    return { backend: 'webgpu', backendReason: limits ? `${chosen.reason}; ${limits}` : chosen.reason };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { backend: 'cpu', backendReason: `${chosen.reason}, but the model could not start there (${message}): CPU` };
  }
}

export function fallbackReason(fault) {
  return `the GPU failed during a reply (${fault}): CPU`;
}

export function fallbackNotice(fault) {
  return `The GPU stopped working (${fault}). The chat goes on on the CPU.`;
}
