;; The rank-b update of the blocked Gauss-Jordan inverse (train/models/linalg.ts): for one row,
;; row[j] -= sum over r < b of t[r] * K[r][j], j < len, where K holds b rows `stride` float64
;; apart. float64 in f64x2 lanes, four pivot rows per pass over the row. Offsets in bytes.
(module
  (import "env" "memory" (memory 1))
  (func (export "update")
    (param $row i32) (param $k i32) (param $len i32) (param $t i32) (param $b i32) (param $n i32)
    (local $bytes i32)
    (local $stride i32) (local $pairs i32) (local $r i32) (local $j i32)
    (local $k0 i32) (local $k1 i32) (local $k2 i32) (local $k3 i32)
    (local $f0 v128) (local $f1 v128) (local $f2 v128) (local $f3 v128)
    (local $s0 f64) (local $s1 f64) (local $s2 f64) (local $s3 f64)
    (local.set $stride (i32.shl (local.get $n) (i32.const 3)))
    (local.set $pairs (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (local.set $bytes (i32.shl (local.get $len) (i32.const 3)))
    ;; Four pivot rows at a time.
    (block $done4
      (loop $rows4
        (br_if $done4 (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $b)))
        (local.set $s0 (f64.load (i32.add (local.get $t) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $s1 (f64.load offset=8 (i32.add (local.get $t) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $s2 (f64.load offset=16 (i32.add (local.get $t) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $s3 (f64.load offset=24 (i32.add (local.get $t) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $f0 (f64x2.splat (local.get $s0)))
        (local.set $f1 (f64x2.splat (local.get $s1)))
        (local.set $f2 (f64x2.splat (local.get $s2)))
        (local.set $f3 (f64x2.splat (local.get $s3)))
        (local.set $k0 (i32.add (local.get $k) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $k1 (i32.add (local.get $k0) (local.get $stride)))
        (local.set $k2 (i32.add (local.get $k1) (local.get $stride)))
        (local.set $k3 (i32.add (local.get $k2) (local.get $stride)))
        (local.set $j (i32.const 0))
        (block $end
          (loop $cols
            (br_if $end (i32.ge_u (local.get $j) (local.get $pairs)))
            (v128.store (i32.add (local.get $row) (local.get $j))
              (f64x2.sub
                (v128.load (i32.add (local.get $row) (local.get $j)))
                (f64x2.add
                  (f64x2.add
                    (f64x2.mul (local.get $f0) (v128.load (i32.add (local.get $k0) (local.get $j))))
                    (f64x2.mul (local.get $f1) (v128.load (i32.add (local.get $k1) (local.get $j)))))
                  (f64x2.add
                    (f64x2.mul (local.get $f2) (v128.load (i32.add (local.get $k2) (local.get $j))))
                    (f64x2.mul (local.get $f3) (v128.load (i32.add (local.get $k3) (local.get $j))))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        ;; An odd length: the last column.
        (if (i32.lt_u (local.get $j) (local.get $bytes))
          (then
            (f64.store (i32.add (local.get $row) (local.get $j))
              (f64.sub
                (f64.load (i32.add (local.get $row) (local.get $j)))
                (f64.add
                  (f64.add
                    (f64.mul (local.get $s0) (f64.load (i32.add (local.get $k0) (local.get $j))))
                    (f64.mul (local.get $s1) (f64.load (i32.add (local.get $k1) (local.get $j)))))
                  (f64.add
                    (f64.mul (local.get $s2) (f64.load (i32.add (local.get $k2) (local.get $j))))
                    (f64.mul (local.get $s3) (f64.load (i32.add (local.get $k3) (local.get $j))))))))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rows4)))
    ;; The remaining pivot rows one at a time.
    (block $done1
      (loop $rows1
        (br_if $done1 (i32.ge_u (local.get $r) (local.get $b)))
        (local.set $s0 (f64.load (i32.add (local.get $t) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $f0 (f64x2.splat (local.get $s0)))
        (local.set $k0 (i32.add (local.get $k) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $j (i32.const 0))
        (block $end1
          (loop $cols1
            (br_if $end1 (i32.ge_u (local.get $j) (local.get $pairs)))
            (v128.store (i32.add (local.get $row) (local.get $j))
              (f64x2.sub
                (v128.load (i32.add (local.get $row) (local.get $j)))
                (f64x2.mul (local.get $f0) (v128.load (i32.add (local.get $k0) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols1)))
        (if (i32.lt_u (local.get $j) (local.get $bytes))
          (then
            (f64.store (i32.add (local.get $row) (local.get $j))
              (f64.sub
                (f64.load (i32.add (local.get $row) (local.get $j)))
                (f64.mul (local.get $s0) (f64.load (i32.add (local.get $k0) (local.get $j))))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows1)))))
