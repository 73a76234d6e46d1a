;; One application of an iALS row system (train/models/ials.ts `applyRowSystem`):
;;   out = (G + reg·I) v + Σ_p (c_p − 1)(y_p · v) y_p
;; G [k, k] float64 (symmetric), y_p = rows of `fixed` [*, k] float32 named by `other`, c_p in
;; `conf` float32, v and out float64. Every output is summed in the same order as the scalar
;; loops (mul then add, no fusing), two outputs or two dot products per f64x2: bit-identical
;; results. Pointers are byte offsets; p runs over [start, end) of `other` / `conf`.
(module
  (import "env" "memory" (memory 1))
  (func (export "apply")
    (param $gram i32) (param $fixed i32) (param $other i32) (param $conf i32)
    (param $start i32) (param $end i32) (param $k i32) (param $reg f64)
    (param $v i32) (param $out i32)
    (local $i i32) (local $j i32) (local $g i32) (local $rowBytes i32) (local $pairs i32)
    (local $s v128) (local $d v128) (local $wv v128)
    (local $sc f64) (local $w0 f64) (local $w1 f64) (local $vf f64)
    (local $p i32) (local $b0 i32) (local $b1 i32) (local $f i32)
    (local.set $rowBytes (i32.shl (local.get $k) (i32.const 3)))
    (local.set $pairs (i32.and (local.get $k) (i32.const -2)))
    ;; (G + reg·I) v, outputs i and i+1 together: G[j, i..i+1] is adjacent in row j.
    (local.set $i (i32.const 0))
    (block $gdone
      (loop $gloop
        (br_if $gdone (i32.ge_u (local.get $i) (local.get $pairs)))
        (local.set $s
          (f64x2.mul (f64x2.splat (local.get $reg))
            (v128.load (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $g (i32.add (local.get $gram) (i32.shl (local.get $i) (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $k)))
            (local.set $s
              (f64x2.add (local.get $s)
                (f64x2.mul (v128.load (local.get $g))
                  (f64x2.splat (f64.load (i32.add (local.get $v) (i32.shl (local.get $j) (i32.const 3))))))))
            (local.set $g (i32.add (local.get $g) (local.get $rowBytes)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $jloop)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $gloop)))
    ;; An odd k: the last output alone (row i of G).
    (if (i32.lt_u (local.get $i) (local.get $k))
      (then
        (local.set $sc
          (f64.mul (local.get $reg) (f64.load (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $g (i32.add (local.get $gram) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $j (i32.const 0))
        (block $tdone
          (loop $tloop
            (br_if $tdone (i32.ge_u (local.get $j) (local.get $k)))
            (local.set $sc
              (f64.add (local.get $sc)
                (f64.mul (f64.load (i32.add (local.get $g) (i32.shl (local.get $j) (i32.const 3))))
                  (f64.load (i32.add (local.get $v) (i32.shl (local.get $j) (i32.const 3)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tloop)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) (local.get $sc))))
    ;; The interactions, two at a time: both dot products in lanes, then both updates in order.
    (local.set $p (local.get $start))
    (block $pdone
      (loop $ploop
        (br_if $pdone (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $end)))
        (local.set $b0
          (i32.add (local.get $fixed)
            (i32.shl (i32.mul (i32.load (i32.add (local.get $other) (i32.shl (local.get $p) (i32.const 2)))) (local.get $k))
              (i32.const 2))))
        (local.set $b1
          (i32.add (local.get $fixed)
            (i32.shl (i32.mul (i32.load offset=4 (i32.add (local.get $other) (i32.shl (local.get $p) (i32.const 2)))) (local.get $k))
              (i32.const 2))))
        (local.set $d (f64x2.splat (f64.const 0)))
        (local.set $f (i32.const 0))
        (block $ddone
          (loop $dloop
            (br_if $ddone (i32.ge_u (local.get $f) (local.get $k)))
            (local.set $d
              (f64x2.add (local.get $d)
                (f64x2.mul
                  (f64x2.replace_lane 1
                    (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $b0) (i32.shl (local.get $f) (i32.const 2))))))
                    (f64.promote_f32 (f32.load (i32.add (local.get $b1) (i32.shl (local.get $f) (i32.const 2))))))
                  (f64x2.splat (f64.load (i32.add (local.get $v) (i32.shl (local.get $f) (i32.const 3))))))))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $dloop)))
        (local.set $w0
          (f64.mul
            (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $conf) (i32.shl (local.get $p) (i32.const 2))))) (f64.const 1))
            (f64x2.extract_lane 0 (local.get $d))))
        (local.set $w1
          (f64.mul
            (f64.sub (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $conf) (i32.shl (local.get $p) (i32.const 2))))) (f64.const 1))
            (f64x2.extract_lane 1 (local.get $d))))
        (call $axpy (local.get $w0) (local.get $b0) (local.get $out) (local.get $k) (local.get $pairs))
        (call $axpy (local.get $w1) (local.get $b1) (local.get $out) (local.get $k) (local.get $pairs))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $ploop)))
    ;; An odd count: the last interaction alone.
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (local.set $b0
          (i32.add (local.get $fixed)
            (i32.shl (i32.mul (i32.load (i32.add (local.get $other) (i32.shl (local.get $p) (i32.const 2)))) (local.get $k))
              (i32.const 2))))
        (local.set $sc (f64.const 0))
        (local.set $f (i32.const 0))
        (block $d1done
          (loop $d1loop
            (br_if $d1done (i32.ge_u (local.get $f) (local.get $k)))
            (local.set $sc
              (f64.add (local.get $sc)
                (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $b0) (i32.shl (local.get $f) (i32.const 2)))))
                  (f64.load (i32.add (local.get $v) (i32.shl (local.get $f) (i32.const 3)))))))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $d1loop)))
        (local.set $w0
          (f64.mul
            (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $conf) (i32.shl (local.get $p) (i32.const 2))))) (f64.const 1))
            (local.get $sc)))
        (call $axpy (local.get $w0) (local.get $b0) (local.get $out) (local.get $k) (local.get $pairs)))))
  ;; out[f] += w · y[f] for f < k (y float32), skipped when w is 0.
  (func $axpy (param $w f64) (param $y i32) (param $out i32) (param $k i32) (param $pairs i32)
    (local $f i32) (local $wv v128) (local $at i32)
    (if (f64.eq (local.get $w) (f64.const 0)) (then (return)))
    (local.set $wv (f64x2.splat (local.get $w)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $f) (local.get $pairs)))
        (local.set $at (i32.add (local.get $out) (i32.shl (local.get $f) (i32.const 3))))
        (v128.store (local.get $at)
          (f64x2.add (v128.load (local.get $at))
            (f64x2.mul (local.get $wv)
              (f64x2.promote_low_f32x4
                (v128.load64_zero (i32.add (local.get $y) (i32.shl (local.get $f) (i32.const 2))))))))
        (local.set $f (i32.add (local.get $f) (i32.const 2)))
        (br $loop)))
    (if (i32.lt_u (local.get $f) (local.get $k))
      (then
        (local.set $at (i32.add (local.get $out) (i32.shl (local.get $f) (i32.const 3))))
        (f64.store (local.get $at)
          (f64.add (f64.load (local.get $at))
            (f64.mul (local.get $w)
              (f64.promote_f32 (f32.load (i32.add (local.get $y) (i32.shl (local.get $f) (i32.const 2)))))))))))
)
