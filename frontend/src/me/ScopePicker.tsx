import { AREAS, type Level } from '../scopes';

export type Levels = Record<string, Level>;

/** scopesFromLevels turns the picker's rows into scope strings ("worklogs:view"). */
export function scopesFromLevels(l: Levels): string[] {
  return AREAS.filter((a) => l[a.key] && l[a.key] !== 'none').map((a) => `${a.key}:${l[a.key]}`);
}

/** ScopePicker is a grid of Tempo areas with none / view / manage per area. */
export function ScopePicker({ levels, onChange, disabled }: { levels: Levels; onChange: (l: Levels) => void; disabled?: boolean }) {
  return (
    <table className="scope-grid" aria-label="Scopes">
      <thead>
        <tr>
          <th>Area</th>
          <th>None</th>
          <th title="GET requests only">View</th>
          <th title="Every method">Manage</th>
        </tr>
      </thead>
      <tbody>
        {AREAS.map((a) => (
          <tr key={a.key}>
            <td>
              <div>{a.label}</div>
              <div className="cell-sub">{a.covers}</div>
            </td>
            {(['none', 'view', 'manage'] as Level[]).map((lv) => (
              <td key={lv}>
                <input
                  type="radio"
                  name={`scope-${a.key}`}
                  aria-label={`${a.label}: ${lv}`}
                  checked={(levels[a.key] ?? 'none') === lv}
                  disabled={disabled}
                  onChange={() => onChange({ ...levels, [a.key]: lv })}
                />
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
