import { haversineKm, readLocation } from './geo';

describe('haversineKm', () => {
  it('is 0 for the same point and symmetric', () => {
    const paris = { lat: 48.8566, lon: 2.3522 };
    const london = { lat: 51.5074, lon: -0.1278 };
    expect(haversineKm(paris, paris)).toBe(0);
    expect(haversineKm(paris, london)).toBeCloseTo(haversineKm(london, paris), 9);
  });

  it('matches known distances', () => {
    expect(haversineKm({ lat: 48.8566, lon: 2.3522 }, { lat: 51.5074, lon: -0.1278 })).toBeCloseTo(343.6, 0);
    expect(haversineKm({ lat: 40.6413, lon: -73.7781 }, { lat: 51.47, lon: -0.4543 })).toBeCloseTo(5540, -1); // JFK-LHR great circle
    // One degree of longitude on the equator: 2*pi*R/360.
    expect(haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(111.195, 2);
  });

  it('handles antipodal points (half the circumference) and the antimeridian', () => {
    expect(haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * 6371.0088, 6);
    expect(haversineKm({ lat: 0, lon: 179.5 }, { lat: 0, lon: -179.5 })).toBeCloseTo(111.195, 2);
  });
});

describe('readLocation', () => {
  it('accepts valid coordinates, including the bounds', () => {
    expect(readLocation({ lat: 90, lon: -180 })).toEqual({ lat: 90, lon: -180 });
  });
  it.each([undefined, null, 'x', {}, { lat: '1', lon: 2 }, { lat: 91, lon: 0 }, { lat: 0, lon: 180.5 }, { lat: Number.NaN, lon: 0 }])(
    'rejects %p',
    (x) => expect(readLocation(x)).toBeUndefined(),
  );
});
