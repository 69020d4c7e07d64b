// Reads a pass QR code with the phone camera where the browser offers BarcodeDetector, fills
// the code field and submits the form. Without it, staff type or paste the code.
(function () {
  'use strict';
  if (!('BarcodeDetector' in window) || !navigator.mediaDevices) return;
  const start = document.getElementById('camera-start');
  const box = document.getElementById('camera');
  const video = document.getElementById('camera-video');
  const form = document.getElementById('scan-form');
  const field = document.getElementById('code');
  start.hidden = false;
  start.addEventListener('click', async () => {
    const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    video.srcObject = stream;
    box.hidden = false;
    await video.play();
    const look = async () => {
      const codes = await detector.detect(video).catch(() => []);
      const found = codes.find((c) => c.rawValue && c.rawValue.startsWith('TB1:'));
      if (found) {
        stream.getTracks().forEach((t) => t.stop());
        field.value = found.rawValue;
        form.submit();
      } else {
        requestAnimationFrame(look);
      }
    };
    look();
  });
})();
