// Ordinary application code: classes and getters, arrays, JSON round trips, sorting with a comparator,
// Map counting, a regular expression, template strings.
class Item {
  constructor(id, name, price, tags) {
    this.id = id;
    this.name = name;
    this.price = price;
    this.tags = tags;
  }

  get label() {
    return `${this.name} (${this.tags.join('/')})`;
  }
}

function mixedWorkload(rounds = 12) {
  let checksum = 0;
  for (let round = 0; round < rounds; round++) {
    const items = [];
    for (let i = 0; i < 2000; i++) {
      items.push(new Item(i, `item-${i}`, ((i * 7919 + round) % 1000) / 10, [`t${i % 7}`, `g${i % 3}`]));
    }

    const labels = items.filter((item) => item.price > 50).map((item) => item.label);
    const json = JSON.stringify(items);
    const parsed = JSON.parse(json);
    parsed.sort((a, b) => b.price - a.price || a.id - b.id);
    const counts = new Map();
    for (const item of parsed) {
      for (const tag of item.tags) {
        counts.set(tag, (counts.get(tag) ?? 0) + 1);
      }
    }

    const matches = json.match(/"name":"item-\d*7"/g).length;
    const text = parsed.slice(0, 200).map((item) => `${item.name}=${item.price.toFixed(1)}`).join(';');
    checksum = (checksum + matches + counts.size + text.length + labels.length + parsed[0].id) | 0;
  }

  return checksum;
}
