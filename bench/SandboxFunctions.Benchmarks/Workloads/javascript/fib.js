// Recursive calls and small-integer arithmetic: the interpreter's call path and nothing else.
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
