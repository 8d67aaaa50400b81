// Avatars: stored image bytes shown through blob: URLs (the CSP allows blob: images), or a
// monogram when a character has none. URLs are cached per character and released when the
// bytes change.
const urls = new Map();

export function avatarUrl(record) {
  if (!record?.avatar || !record.avatarMime) return null;
  const cached = urls.get(record.id);
  if (cached && cached.bytes === record.avatar) return cached.url;
  if (cached) URL.revokeObjectURL(cached.url);
  const url = URL.createObjectURL(new Blob([record.avatar], { type: record.avatarMime }));
  urls.set(record.id, { bytes: record.avatar, url });
  return url;
}

export function forgetAvatar(id) {
  const cached = urls.get(id);
  if (cached) URL.revokeObjectURL(cached.url);
  urls.delete(id);
}

export function avatarElement(record, name, className) {
  const url = avatarUrl(record);
  if (url) {
    const img = document.createElement('img');
    img.className = className;
    img.src = url;
    img.alt = '';
    img.decoding = 'async';
    return img;
  }
  const span = document.createElement('span');
  span.className = `${className} monogram`;
  span.setAttribute('aria-hidden', 'true');
  span.textContent = String(name || '?').slice(0, 1).toUpperCase();
  return span;
}

// PNG bytes for a card's image: a PNG as it is, anything else (an SVG starter avatar, a
// JPEG) drawn onto a canvas. Null when there is no image or it cannot be drawn.
export async function pngBytes(record) {
  if (!record?.avatar) return null;
  const bytes = new Uint8Array(record.avatar);
  if (record.avatarMime === 'image/png') return bytes;
  const url = URL.createObjectURL(new Blob([bytes], { type: record.avatarMime || 'application/octet-stream' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const side = 400;
    const canvas = document.createElement('canvas');
    canvas.width = side;
    canvas.height = side;
    const ctx = canvas.getContext('2d');
    const scale = Math.max(side / (img.naturalWidth || side), side / (img.naturalHeight || side));
    const w = (img.naturalWidth || side) * scale;
    const h = (img.naturalHeight || side) * scale;
    ctx.drawImage(img, (side - w) / 2, (side - h) / 2, w, h);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    return blob ? new Uint8Array(await blob.arrayBuffer()) : null;
  } catch {
    return null;
  } finally {
    URL.revokeObjectURL(url);
  }
}
