import { describe, expect, it } from 'vitest';
import { certificateToJson, parseCertificate, signCertificate, verifyCertificate, type Certificate } from '../../runtime/trust/certificate.js';
import { generateSigningKey } from '../../runtime/trust/ed25519.js';
import { Domain, signable } from '../../runtime/trust/signable.js';
import { signBytes } from '../../runtime/trust/ed25519.js';

const admin = generateSigningKey();
const device = generateSigningKey();

function flip(b: Uint8Array, i: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[i]! ^= 0x01;
  return c;
}

describe('certificate', () => {
  it('binds an id to a device key under the admin key', () => {
    const cert = signCertificate('pi-kitchen-03', device.publicKey, admin.secretKey);
    expect(cert.id).toBe('pi-kitchen-03');
    expect(cert.signature.length).toBe(64);
    expect(verifyCertificate(cert, admin.publicKey)).toBe(true);
    expect(verifyCertificate(cert, generateSigningKey().publicKey)).toBe(false);
  });

  it('is invalid once any byte of the key or signature, or the id, changes', () => {
    const cert = signCertificate('n1', device.publicKey, admin.secretKey);
    for (const i of [0, 17, 31]) expect(verifyCertificate({ ...cert, publicKey: flip(cert.publicKey, i) }, admin.publicKey)).toBe(false);
    for (const i of [0, 32, 63]) expect(verifyCertificate({ ...cert, signature: flip(cert.signature, i) }, admin.publicKey)).toBe(false);
    expect(verifyCertificate({ ...cert, id: 'n2' }, admin.publicKey)).toBe(false);
  });

  it('an admin signature made for another purpose does not pass as a certificate', () => {
    const revocationBytes = signable(Domain.Revocation, ['n1', device.publicKey]);
    const forged: Certificate = { id: 'n1', publicKey: device.publicKey, signature: signBytes(revocationBytes, admin.secretKey) };
    expect(verifyCertificate(forged, admin.publicKey)).toBe(false);
  });

  it('verify never throws on malformed values', () => {
    const cert = signCertificate('n1', device.publicKey, admin.secretKey);
    expect(verifyCertificate({ ...cert, publicKey: new Uint8Array(3) }, admin.publicKey)).toBe(false);
    expect(verifyCertificate({ ...cert, signature: new Uint8Array(0) }, admin.publicKey)).toBe(false);
    expect(verifyCertificate(cert, new Uint8Array(5))).toBe(false);
    expect(verifyCertificate(null as unknown as Certificate, admin.publicKey)).toBe(false);
    expect(verifyCertificate({ id: 7 } as unknown as Certificate, admin.publicKey)).toBe(false);
  });

  it('refuses to sign an id no device could run under', () => {
    expect(() => signCertificate('has space', device.publicKey, admin.secretKey)).toThrow(/certificate id: expected up to 64 letters/);
    expect(() => signCertificate('n1', new Uint8Array(31), admin.secretKey)).toThrow(/publicKey: expected 32 bytes, got 31/);
  });

  it('round-trips through its JSON file form and still verifies', () => {
    const cert = signCertificate('n1', device.publicKey, admin.secretKey);
    const text = certificateToJson(cert);
    expect(JSON.parse(text)).toMatchObject({ type: 'murmur-certificate', id: 'n1', publicKey: Buffer.from(device.publicKey).toString('base64') });
    const back = parseCertificate(text, 'cert.json');
    expect(back).toEqual(cert);
    expect(verifyCertificate(back, admin.publicKey)).toBe(true);
  });

  it('a damaged file form is an error naming the source and the field', () => {
    const good = JSON.parse(certificateToJson(signCertificate('n1', device.publicKey, admin.secretKey))) as Record<string, unknown>;
    const text = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });
    expect(() => parseCertificate(text({ publicKey: Buffer.alloc(12).toString('base64') }), 'cert.json')).toThrow(
      'cert.json: publicKey: expected 32 bytes of base64, got 12',
    );
    expect(() => parseCertificate(text({ publicKey: 'not*base64!' }), 'cert.json')).toThrow(/cert\.json: publicKey: expected 32 bytes of base64, got "not\*base64!" \(not base64\)/);
    expect(() => parseCertificate(text({ signature: undefined }), 'cert.json')).toThrow('cert.json: signature: expected 64 bytes of base64, got nothing');
    expect(() => parseCertificate(text({ id: 42 }), 'cert.json')).toThrow('cert.json: id: expected a string, got 42');
    expect(() => parseCertificate(text({ id: '' }), 'cert.json')).toThrow(/cert\.json: id: expected up to 64 letters/);
    expect(() => parseCertificate(text({ type: 'murmur-revocation' }), 'cert.json')).toThrow('cert.json: type: expected "murmur-certificate", got "murmur-revocation"');
    expect(() => parseCertificate('{"type": "murmur-cert', 'cert.json')).toThrow(/^cert\.json: not JSON/);
    expect(() => parseCertificate('[]', 'cert.json')).toThrow(/cert\.json: expected a JSON object/);
  });
});
