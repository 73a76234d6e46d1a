;; Biased-MF SGD epoch with 128-bit SIMD (f32x4): the same update as sgdBiasedMfEpoch in
;; ../kernels.ts, four factors per instruction. Arrays live in the imported memory at byte
;; offsets given by the caller; the factor count must be a multiple of 4.
;; Rebuild the embedded bytes with: node --import tsx train/models/wasm/build.ts
(module
  (import "env" "memory" (memory 1))
  (func (export "epoch")
    (param $user i32) (param $item i32) (param $rating i32) (param $n i32)
    (param $P i32) (param $Q i32) (param $bu i32) (param $bi i32) (param $k i32)
    (param $mean f32) (param $lr f32) (param $reg f32) (param $lrb f32) (param $regb f32)
    (result f64)
    (local $j i32) (local $u i32) (local $i i32) (local $pu i32) (local $qi i32) (local $f i32)
    (local $kb i32) (local $abu i32) (local $abi i32)
    (local $acc v128) (local $decay v128) (local $step v128) (local $p v128) (local $q v128)
    (local $dot f32) (local $err f32) (local $bdecay f32) (local $sse f64)
    (local.set $decay (f32x4.splat (f32.sub (f32.const 1) (f32.mul (local.get $lr) (local.get $reg)))))
    (local.set $bdecay (f32.sub (f32.const 1) (f32.mul (local.get $lrb) (local.get $regb))))
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $u (i32.load (i32.add (local.get $user) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $i (i32.load (i32.add (local.get $item) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $pu (i32.add (local.get $P) (i32.mul (local.get $u) (local.get $kb))))
        (local.set $qi (i32.add (local.get $Q) (i32.mul (local.get $i) (local.get $kb))))
        ;; dot = p_u . q_i
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $f (i32.const 0))
        (block $dotDone
          (loop $dotLoop
            (br_if $dotDone (i32.ge_u (local.get $f) (local.get $kb)))
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul
                  (v128.load (i32.add (local.get $pu) (local.get $f)))
                  (v128.load (i32.add (local.get $qi) (local.get $f))))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $dotLoop)))
        (local.set $dot
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (local.set $abu (i32.add (local.get $bu) (i32.shl (local.get $u) (i32.const 2))))
        (local.set $abi (i32.add (local.get $bi) (i32.shl (local.get $i) (i32.const 2))))
        ;; err = r - (mean + b_u + b_i + dot)
        (local.set $err
          (f32.sub
            (f32.load (i32.add (local.get $rating) (i32.shl (local.get $j) (i32.const 2))))
            (f32.add
              (f32.add (local.get $mean) (f32.load (local.get $abu)))
              (f32.add (f32.load (local.get $abi)) (local.get $dot)))))
        (local.set $sse (f64.add (local.get $sse) (f64.promote_f32 (f32.mul (local.get $err) (local.get $err)))))
        (f32.store (local.get $abu)
          (f32.add (f32.mul (local.get $bdecay) (f32.load (local.get $abu))) (f32.mul (local.get $lrb) (local.get $err))))
        (f32.store (local.get $abi)
          (f32.add (f32.mul (local.get $bdecay) (f32.load (local.get $abi))) (f32.mul (local.get $lrb) (local.get $err))))
        ;; p <- decay*p + lr*err*q ; q <- decay*q + lr*err*p (both from the old values)
        (local.set $step (f32x4.splat (f32.mul (local.get $lr) (local.get $err))))
        (local.set $f (i32.const 0))
        (block $updDone
          (loop $updLoop
            (br_if $updDone (i32.ge_u (local.get $f) (local.get $kb)))
            (local.set $p (v128.load (i32.add (local.get $pu) (local.get $f))))
            (local.set $q (v128.load (i32.add (local.get $qi) (local.get $f))))
            (v128.store (i32.add (local.get $pu) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $decay) (local.get $p)) (f32x4.mul (local.get $step) (local.get $q))))
            (v128.store (i32.add (local.get $qi) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $decay) (local.get $q)) (f32x4.mul (local.get $step) (local.get $p))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $updLoop)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rows)))
    (local.get $sse))
)
