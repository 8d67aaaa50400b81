// Which backend runs the model: WebGPU or the CPU (wasm). "Automatic" takes WebGPU only for a
// hardware adapter: a software one (SwiftShader, llvmpipe/lavapipe, WARP) streams quantized weights
// slower than the CPU backend reads them, so it loses to the CPU path it would replace.

export const BACKEND_CHOICES = Object.freeze(['auto', 'gpu', 'cpu']);

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|warp|microsoft basic render/i;

export function isBackendChoice(value) {
  return BACKEND_CHOICES.includes(value);
}

// GPUAdapterInfo (or an older adapter's own fields) -> plain strings and the fallback flag.
export function describeAdapter(adapter) {
  if (!adapter || typeof adapter !== 'object') return null;
  const info = adapter.info && typeof adapter.info === 'object' ? adapter.info : {};
  const str = (v) => (typeof v === 'string' ? v.slice(0, 200) : '');
  return {
    vendor: str(info.vendor),
    architecture: str(info.architecture),
    device: str(info.device),
    description: str(info.description),
    fallback: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
}

export function isSoftwareAdapter(desc) {
  if (!desc) return false;
  return desc.fallback || SOFTWARE.test([desc.vendor, desc.architecture, desc.device, desc.description].join(' '));
}

// "google swiftshader (fallback adapter)": what a person can recognise the adapter by.
export function adapterLabel(desc) {
  if (!desc) return 'no adapter';
  const name = [desc.vendor, desc.architecture, desc.description || desc.device]
    .filter((s, i, all) => s && all.indexOf(s) === i).join(' ') || 'unnamed adapter';
  if (desc.fallback) return `${name} (fallback adapter)`;
  return isSoftwareAdapter(desc) ? `${name} (software)` : name;
}

// choice: 'auto' | 'gpu' | 'cpu'; adapter: describeAdapter's result or null; why: where the choice
// came from ("settings", "address"). -> {backend: 'gpu' | 'cpu', reason}
export function chooseBackend(choice, adapter, why = 'settings') {
  const pick = isBackendChoice(choice) ? choice : 'auto';
  if (pick === 'cpu') return { backend: 'cpu', reason: `CPU chosen in ${why}` };
  if (!adapter) {
    const reason = 'no WebGPU adapter in this browser';
    return { backend: 'cpu', reason: pick === 'gpu' ? `WebGPU chosen in ${why}, but ${reason}: CPU` : `Automatic: ${reason}` };
  }
  if (pick === 'gpu') return { backend: 'gpu', reason: `WebGPU chosen in ${why}: ${adapterLabel(adapter)}` };
  if (isSoftwareAdapter(adapter)) {
    return { backend: 'cpu', reason: `Automatic: ${adapterLabel(adapter)} is a software renderer, slower than the CPU backend` };
  }
  return { backend: 'gpu', reason: `Automatic: hardware adapter ${adapterLabel(adapter)}` };
}

// navigator.gpu (or undefined) -> describeAdapter's result, or null when there is none.
export async function probeAdapter(gpu) {
  if (!gpu || typeof gpu.requestAdapter !== 'function') return null;
  try {
    return describeAdapter(await gpu.requestAdapter({ powerPreference: 'high-performance' }));
  } catch {
    return null;
  }
}

// The limits the GPU model was given, from Engine.use_gpu's summary, for the reason text.
export function gpuLimitsText(summary) {
  if (!summary || typeof summary !== 'object') return '';
  const n = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);
  const parts = [`bindings up to ${n(summary.max_storage_binding_mib)} MiB`, `KV cache ${n(summary.context)} tokens`,
    `${n(summary.gpu_mib)} MiB on the GPU`];
  if (summary.subgroups) parts.push('subgroups');
  if (summary.shader_f16) parts.push('shader-f16');
  return parts.join(', ');
}
