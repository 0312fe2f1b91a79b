;; A guest that does each thing the engine must contain: out-of-bounds access, unbounded recursion,
;; endless loops, arithmetic traps, memory growth, and calls into the host.
(module
  (import "host" "signal" (func $signal (param i32) (result i32)))
  (memory (export "memory") 1)
  (global (export "__stack_pointer") (mut i32) (i32.const 4096))
  (global (export "counter") (mut i64) (i64.const 7))

  (func (export "read") (param $address i32) (result i32)
    (i32.load (local.get $address)))

  (func $recurse (export "recurse") (param $depth i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get $depth) (i32.const 1))) (i32.const 1)))

  (func (export "divide") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))

  (func (export "grow") (param $pages i32) (result i32)
    (memory.grow (local.get $pages)))

  (func (export "call_host") (param $value i32) (result i32)
    (call $signal (local.get $value)))

  ;; Tells the host it started, then loops for ever without calling anything.
  (func (export "spin") (param $id i32)
    (drop (call $signal (local.get $id)))
    (loop $forever (br $forever)))

  ;; Loops for ever in a callee, the way an interpreter's C code does.
  (func $work (param $n i32) (result i32)
    (i32.add (local.get $n) (i32.const 1)))
  (func (export "spin_in_calls") (param $id i32)
    (local $n i32)
    (drop (call $signal (local.get $id)))
    (loop $forever
      (local.set $n (call $work (local.get $n)))
      (br $forever)))
)
