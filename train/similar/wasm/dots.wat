;; Cosine scores of a block of query rows against every row of a unit-length float32 matrix, with
;; exactly the arithmetic of dotAll in shared/kernels/similarity.ts: float32 inputs promoted to
;; float64, four float64 accumulators over the body (s0..s3 = lanes of two f64x2), the tail
;; (dim % 4) into s0, then f32(((s0 + s1) + s2) + s3). No fused multiply-add, so every score is
;; bit-identical to the typed-array kernel. Arrays live in the imported memory at byte offsets.
;; Rebuild the embedded bytes with: node --import tsx train/models/wasm/build.ts
(module
  (import "env" "memory" (memory 1))
  ;; out[b * rows + r] = dot(unit row r, query b) for b < nq, r < rows; queries are nq rows of
  ;; `dim` float32 at $queries (contiguous), out is float32 [nq, rows].
  (func (export "dots")
    (param $unit i32) (param $rows i32) (param $dim i32) (param $queries i32) (param $nq i32)
    (param $out i32)
    (local $r i32) (local $b i32) (local $j i32) (local $row i32) (local $q i32)
    (local $bodyBytes i32) (local $rowBytes i32) (local $dimBytes i32)
    (local $acc01 v128) (local $acc23 v128) (local $x v128) (local $y v128) (local $s0 f64)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $dimBytes (local.get $rowBytes))
    (local.set $bodyBytes (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (local.set $row (local.get $unit))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $b (i32.const 0))
        (local.set $q (local.get $queries))
        (block $queriesDone
          (loop $queriesLoop
            (br_if $queriesDone (i32.ge_u (local.get $b) (local.get $nq)))
            (local.set $acc01 (v128.const f64x2 0 0))
            (local.set $acc23 (v128.const f64x2 0 0))
            (local.set $j (i32.const 0))
            (block $bodyDone
              (loop $bodyLoop
                (br_if $bodyDone (i32.ge_u (local.get $j) (local.get $bodyBytes)))
                (local.set $x (v128.load (i32.add (local.get $row) (local.get $j))))
                (local.set $y (v128.load (i32.add (local.get $q) (local.get $j))))
                (local.set $acc01
                  (f64x2.add (local.get $acc01)
                    (f64x2.mul
                      (f64x2.promote_low_f32x4 (local.get $x))
                      (f64x2.promote_low_f32x4 (local.get $y)))))
                (local.set $acc23
                  (f64x2.add (local.get $acc23)
                    (f64x2.mul
                      (f64x2.promote_low_f32x4
                        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
                      (f64x2.promote_low_f32x4
                        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $y) (local.get $y))))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $bodyLoop)))
            (local.set $s0 (f64x2.extract_lane 0 (local.get $acc01)))
            (block $tailDone
              (loop $tailLoop
                (br_if $tailDone (i32.ge_u (local.get $j) (local.get $dimBytes)))
                (local.set $s0
                  (f64.add (local.get $s0)
                    (f64.mul
                      (f64.promote_f32 (f32.load (i32.add (local.get $row) (local.get $j))))
                      (f64.promote_f32 (f32.load (i32.add (local.get $q) (local.get $j)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $tailLoop)))
            (f32.store
              (i32.add (local.get $out)
                (i32.shl (i32.add (i32.mul (local.get $b) (local.get $rows)) (local.get $r)) (i32.const 2)))
              (f32.demote_f64
                (f64.add
                  (f64.add
                    (f64.add (local.get $s0) (f64x2.extract_lane 1 (local.get $acc01)))
                    (f64x2.extract_lane 0 (local.get $acc23)))
                  (f64x2.extract_lane 1 (local.get $acc23)))))
            (local.set $q (i32.add (local.get $q) (local.get $rowBytes)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $queriesLoop)))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsLoop)))))
