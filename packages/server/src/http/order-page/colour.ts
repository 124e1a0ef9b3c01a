/** `#abc` → `#aabbcc`; the branding allows only these two forms. */
export function expandHex(hex: string): string {
  return hex.length === 4 ? `#${hex[1]}${hex[1]}${hex[2]}${hex[2]}${hex[3]}${hex[3]}` : hex;
}

function luminance(hex: string): number {
  const full = expandHex(hex);
  const channel = (i: number) => {
    const c = Number.parseInt(full.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** WCAG contrast ratio of a colour against white. */
export function contrastOnWhite(hex: string): number {
  return 1.05 / (luminance(hex) + 0.05);
}

/** Whether white text on this colour is legible (WCAG AA, 4.5:1); if not, dark text goes on it. */
export function whiteReadsOn(hex: string): boolean {
  return contrastOnWhite(hex) >= 4.5;
}
