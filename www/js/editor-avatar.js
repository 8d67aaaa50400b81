// An avatar from a picked image: decoded by the browser, drawn onto a canvas at most 512
// pixels a side and kept as PNG bytes, the way an imported card's image is kept. Drawing it
// again also drops whatever else the file carried (metadata, a card in a PNG's chunks).
export const AVATAR_SIDE = 512;
const MAX_FILE = 20 * 1024 * 1024;

export async function avatarFromFile(file, side = AVATAR_SIDE) {
  if (!file || !/^image\//.test(file.type || 'image/')) throw new Error('Pick an image file (PNG, JPEG, WebP or GIF).');
  if (file.size > MAX_FILE) throw new Error('The image is larger than 20 MB.');
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`${file.name || 'The file'} could not be read as an image.`);
  }
  try {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, w, h);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error('The image could not be converted.');
    return { bytes: await blob.arrayBuffer(), mime: 'image/png', width: w, height: h };
  } finally {
    bitmap.close();
  }
}
