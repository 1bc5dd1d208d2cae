// Light or dark (issue 16): the system setting (prefers-color-scheme) by default; the header's button
// cycles System → Light → Dark, remembered in this browser. style.css holds both palettes; charts read
// the current colours when they draw.

const key = 'lineage.theme';
type Choice = 'system' | 'light' | 'dark';
const order: Choice[] = ['system', 'light', 'dark'];
const labels: Record<Choice, string> = { system: '◐ System', light: '☀ Light', dark: '☾ Dark' };

function stored(): Choice {
  const v = localStorage.getItem(key);
  return v === 'light' || v === 'dark' ? v : 'system';
}

function apply(choice: Choice, button: HTMLElement | null): void {
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  if (button) {
    button.textContent = labels[choice];
    button.setAttribute('aria-label', `Colour theme: ${choice}`);
  }
}

/** Applies the remembered choice; the button cycles it and `onChange` redraws what drew with the old colours. */
export function setUpTheme(button: HTMLElement | null, onChange: () => void): void {
  apply(stored(), button);
  button?.addEventListener('click', () => {
    const next = order[(order.indexOf(stored()) + 1) % order.length];
    if (next === 'system') localStorage.removeItem(key);
    else localStorage.setItem(key, next);
    apply(next, button);
    onChange();
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => stored() === 'system' && onChange());
}

/** A colour of the current theme (a CSS custom property of :root), for canvases that cannot use CSS. */
export function themeColour(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
