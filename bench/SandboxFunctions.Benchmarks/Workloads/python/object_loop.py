# A pystone-style interpreter workload: attribute reads and writes, small method and function calls
# (with keyword arguments), branches, while loops, list and dict operations, string formatting.


class Account:
    def __init__(self, number, owner, balance):
        self.number = number
        self.owner = owner
        self.balance = balance
        self.history = []

    def deposit(self, amount):
        self.balance += amount
        self.history.append(amount)
        if len(self.history) > 8:
            self.history.pop(0)
        return self.balance

    def label(self):
        return f"{self.owner}#{self.number}: {self.balance:.2f}"


def classify(value):
    if value < 10:
        return "small"
    elif value < 100:
        return "medium"
    return "large"


def mix(a, b, *, scale=1):
    return (a * 31 + b) % 1009 * scale


def object_loop(rounds=400_000):
    accounts = [Account(i, "owner%d" % (i % 17), float(i)) for i in range(64)]
    counts = {}
    labels = []
    checksum = 0
    for i in range(rounds):
        account = accounts[i & 63]
        balance = account.deposit(mix(i, checksum & 255, scale=2) / 100)
        kind = classify(balance % 150)
        counts[kind] = counts.get(kind, 0) + 1
        if i % 97 == 0:
            labels.append(account.label())
        checksum = (checksum + int(balance)) & 0xFFFF
        j = 0
        while j < 3:
            checksum ^= j << (i & 7)
            j += 1
    labels.sort()
    return checksum, counts, "%d accounts, first %s" % (len(accounts), labels[0])
