// Drives one lab device with the npm `onvif` library the way its users do: connect (which reads
// the clock, GetServices with capabilities, the media profiles and video sources), then device
// information and the stream URI. Prints one JSON line; exits non-zero on any error.
'use strict';
const { Cam } = require('onvif');

const [hostname, port, username, password] = process.argv.slice(2);
const fail = (what, err) => {
  process.stdout.write(JSON.stringify({ error: `${what}: ${err && err.message ? err.message : err}` }) + '\n');
  process.exit(1);
};

new Cam({ hostname, port: Number(port), username, password, timeout: 5000 }, function (err) {
  if (err) return fail('connect', err);
  const cam = this;
  cam.getDeviceInformation((err, info) => {
    if (err) return fail('GetDeviceInformation', err);
    cam.getStreamUri({ protocol: 'RTSP' }, (err, stream) => {
      if (err) return fail('GetStreamUri', err);
      process.stdout.write(JSON.stringify({
        manufacturer: info.manufacturer,
        model: info.model,
        profiles: cam.profiles.length,
        videoSources: Array.isArray(cam.videoSources) ? cam.videoSources.length : (cam.videoSources ? 1 : 0),
        uri: stream.uri,
        mediaService: Boolean(cam.uri && cam.uri.media),
      }) + '\n');
    });
  });
});
