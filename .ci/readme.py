"""Write README.md from nbs/index.ipynb, behind the Hugging Face Space front matter.

nbdev-readme renders with Quarto, which is not installable from the package registries this project's CI reaches;
this does the same for our index (markdown cells as they are, code cells as Python blocks). CI runs it and fails
when README.md changes, so the README and its notebook cannot drift apart.
"""
import json
from pathlib import Path

FRONT_MATTER = """---
title: Produce Classifier
emoji: 🍎
colorFrom: green
colorTo: yellow
sdk: gradio
sdk_version: {gradio}
app_file: app.py
python_version: "3.12.12"
suggested_hardware: cpu-basic
license: apache-2.0
---
"""

def main():
    root = Path(__file__).resolve().parents[1]
    pins = dict(l.split('==') for l in (root/'constraints.txt').read_text().splitlines() if '==' in l and not l.startswith('#'))
    cells = json.loads((root/'nbs'/'index.ipynb').read_text())['cells']
    parts = [FRONT_MATTER.format(gradio=pins['gradio'])]
    for c in cells:
        src = ''.join(c['source']).strip()
        if c['cell_type'] == 'markdown': parts.append(src)
        elif c['cell_type'] == 'code' and not src.startswith('#| hide'): parts.append(f"```python\n{src}\n```")
    (root/'README.md').write_text('\n\n'.join(parts) + '\n')

if __name__ == '__main__': main()
