import { normaliseOrigin, parseWidgetKey } from './data';
import { widgetUpdateFromInput } from './widget';

describe('widget settings', () => {
  it('keeps origins as browsers send them, and refuses anything else by name', () => {
    expect(widgetUpdateFromInput({ allowedOrigins: ['https://Shop.Example/', 'http://127.0.0.1:4000', 'https://shop.example'] })).toEqual({
      allowedOrigins: ['https://shop.example', 'http://127.0.0.1:4000'],
    });
    for (const origin of ['https://shop.example/path', 'ftp://shop.example', 'shop.example', 'https://u:p@shop.example']) {
      expect(normaliseOrigin(origin)).toBeNull();
      expect(() => widgetUpdateFromInput({ allowedOrigins: [origin] })).toThrow(/allowedOrigins/);
    }
    expect(() => widgetUpdateFromInput({ allowedOrigins: Array.from({ length: 51 }, (_, i) => `https://s${i}.example`) })).toThrow(
      /at most 50/,
    );
  });

  it('checks colour, greeting and position', () => {
    expect(widgetUpdateFromInput({ themeColor: '#A1B2C3', greeting: '  Hello!  ', position: 'BOTTOM_LEFT' })).toEqual({
      themeColor: '#a1b2c3',
      greeting: 'Hello!',
      position: 'BOTTOM_LEFT',
    });
    expect(() => widgetUpdateFromInput({ themeColor: 'red' })).toThrow(/themeColor/);
    expect(() => widgetUpdateFromInput({ greeting: 'x'.repeat(501) })).toThrow(/greeting/);
  });

  it('reads the tenant from a well-formed widget key only', () => {
    expect(parseWidgetKey('bdw_demo-bank_AAAAAAAAAAAAAAAAAAAAAA')).toEqual({ tenantId: 'demo-bank' });
    for (const key of [
      'bdk_demo-bank_AAAAAAAAAAAAAAAAAAAAAA',
      'bdw_demo-bank_short',
      'bdw__AAAAAAAAAAAAAAAAAAAAAA',
      'bdw_{x}_AAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      expect(parseWidgetKey(key)).toBeNull();
    }
  });
});
