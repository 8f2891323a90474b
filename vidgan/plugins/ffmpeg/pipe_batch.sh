#!/usr/bin/env bash
# Run a vidgan filter chain over every video in a folder, as a stage between two ffmpeg processes:
#
#   ffmpeg (decode) --NUT: raw video + PCM audio--> vidgan pipe -vf CHAIN --NUT--> ffmpeg (encode)
#
# Usage: pipe_batch.sh IN_DIR OUT_DIR [CHAIN] [extra output ffmpeg args...]
#   e.g. pipe_batch.sh clips/ out/ "scale=-2:720,null" -c:v libx264 -crf 20 -preset medium
# Finished outputs are skipped, each output is written to a temporary name and renamed when
# complete, and a failing file is reported without stopping the rest (exit status 1 at the end).
set -uo pipefail

in_dir=${1:?usage: pipe_batch.sh IN_DIR OUT_DIR [CHAIN] [ffmpeg output args...]}
out_dir=${2:?usage: pipe_batch.sh IN_DIR OUT_DIR [CHAIN] [ffmpeg output args...]}
chain=${3:-null}
shift $(( $# < 3 ? $# : 3 ))
encode_args=("$@")
[ ${#encode_args[@]} -gt 0 ] || encode_args=(-c:v libx264 -crf 20 -preset medium)
VIDGAN=${VIDGAN:-vidgan}

mkdir -p "$out_dir"
failed=0 done_count=0 skipped=0
shopt -s nullglob nocaseglob
for src in "$in_dir"/*.{mp4,mkv,mov,webm,avi}; do
  name=$(basename "${src%.*}")
  out="$out_dir/$name.mp4"
  if [ -e "$out" ]; then skipped=$((skipped + 1)); continue; fi
  tmp="$out_dir/.$name.partial-$$.mp4"
  # PCM through NUT keeps audio sample-exact (AAC copied through NUT loses its priming);
  # passthrough timestamps and the demuxer's time base keep variable frame rates intact.
  if ffmpeg -nostdin -v error -i "$src" -map 0:v:0 -map "0:a?" -c:v rawvideo -c:a pcm_s16le \
         -fps_mode passthrough -enc_time_base:v -1 -f nut - \
     | "$VIDGAN" pipe -vf "$chain" \
     | ffmpeg -nostdin -v error -y -f nut -i - -map 0 "${encode_args[@]}" -c:a aac -b:a 192k "$tmp"; then
    mv -f "$tmp" "$out"
    done_count=$((done_count + 1))
  else
    rm -f "$tmp"
    echo "pipe_batch: failed: $src" >&2
    failed=$((failed + 1))
  fi
done
echo "pipe_batch: $done_count done, $skipped skipped (already finished), $failed failed" >&2
[ "$failed" -eq 0 ]
