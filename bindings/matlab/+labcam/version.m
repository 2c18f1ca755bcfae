function v = version()
% LABCAM.VERSION  The library version as [major minor patch].
  labcam.load();
  [st, a, b, c] = calllib('labcam', 'labcam_abi_version', 0, 0, 0);
  labcam.check(st);
  v = double([a b c]);
end
