// Reads a pass QR code with the phone camera: with the browser's BarcodeDetector where it
// exists, otherwise with the vendored jsQR decoder over video frames. Fills the code field and
// submits the form. Without a camera, staff type or paste the code.
(function () {
  'use strict';
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  const start = document.getElementById('camera-start');
  const box = document.getElementById('camera');
  const video = document.getElementById('camera-video');
  const form = document.getElementById('scan-form');
  const field = document.getElementById('code');
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });

  async function detectorFor() {
    if ('BarcodeDetector' in window) {
      const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
      return async () => (await detector.detect(video).catch(() => [])).map((c) => c.rawValue);
    }
    if (typeof window.jsQR === 'function') {
      return async () => {
        if (!video.videoWidth) return [];
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' });
        return found ? [found.data] : [];
      };
    }
    return null;
  }

  start.hidden = false;
  start.addEventListener('click', async () => {
    const detect = await detectorFor();
    if (!detect) return;
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    video.srcObject = stream;
    box.hidden = false;
    await video.play();
    const look = async () => {
      const value = (await detect()).find((text) => text && text.startsWith('TB1:'));
      if (value) {
        stream.getTracks().forEach((t) => t.stop());
        field.value = value;
        form.submit();
      } else {
        requestAnimationFrame(look);
      }
    };
    look();
  });
})();
